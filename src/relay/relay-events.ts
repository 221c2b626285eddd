/**
 * What happens in the data plane, as events the control plane can list and
 * stream. Payloads are plain snapshots with ids and counters, never sockets.
 */
import { EventEmitter } from 'node:events';

export interface RouteSnapshot {
  listenerId: string;
  path: string;
  keyId: string;
  listenerAddress: string;
  since: Date;
}

export interface LinkSnapshot {
  linkId: string;
  path: string;
  listenerId: string;
  dialerKeyId: string;
  listenerKeyId: string;
  dialerAddress: string;
  since: Date;
  /** Bytes relayed from the dialer to the listener. */
  bytesToListener: number;
  /** Bytes relayed from the listener to the dialer. */
  bytesToDialer: number;
}

export type RouteCloseReason = 'listener_closed' | 'ping_timeout' | 'error' | 'shutdown' | 'forced';
export type LinkCloseReason = 'closed' | 'error' | 'idle_timeout' | 'shutdown' | 'forced';
export type DialerEndReason = 'timeout' | 'listener_gone' | 'dialer_closed' | 'shutdown';

export interface RelayEventMap {
  'route:open': [RouteSnapshot];
  'route:close': [RouteSnapshot & { reason: RouteCloseReason }];
  'link:open': [LinkSnapshot];
  'link:close': [LinkSnapshot & { reason: LinkCloseReason }];
  'dialer:end': [{ path: string; dialerAddress: string; reason: DialerEndReason }];
}

export class RelayEvents extends EventEmitter<RelayEventMap> {}
