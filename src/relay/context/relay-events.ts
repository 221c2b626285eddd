/**
 * What happens in the data plane, as events the control plane can list and
 * stream. Payloads are plain snapshots with ids and counters, never sockets.
 */
import { EventEmitter } from 'node:events';
import type { ErrorCode, KeyLossCode } from '@remoted/sdk/wire/protocol';

export interface RouteSnapshot {
  listenerId: string;
  path: string;
  keyId: string;
  listenerAddress: string;
  since: Date;
}

/** What an event tells of a listener: plain values, never the connection. */
export function routeSnapshotOf(listener: { id: string; path: string; keyId: string; address: string; since: Date }): RouteSnapshot {
  return { listenerId: listener.id, path: listener.path, keyId: listener.keyId, listenerAddress: listener.address, since: listener.since };
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

/**
 * `forced`: an operator kicked it (it may reconnect); `closed_for_good`: an operator closed it and told it not to come back (4004).
 * `replaced`: a new listener with the same key took the path over (takeover policy).
 * `key_revoked`, `key_expired`, `key_out_of_scope`: its key no longer holds the path (key-enforcer.ts).
 */
export type LinkVia = 'dialback' | 'spare' | 'hop' | 'relayed';

/** `lease_lost`: cluster mode, the node lost the route's lease in Redis (route-directory.ts). */
export type RouteCloseReason = 'listener_closed' | 'ping_timeout' | 'error' | 'shutdown' | 'forced' | 'closed_for_good' | 'replaced' | 'lease_lost' | KeyLossCode;
/** `key_*`: the key of either side no longer holds the link's path (key-enforcer.ts). */
export type LinkCloseReason = 'closed' | 'error' | 'idle_timeout' | 'shutdown' | 'forced' | KeyLossCode;
/**
 * `key_severed`: the dialer's key was revoked, expired, lost the path or was cut off with its connections.
 * `refused`: the listener told of it refused it (feature `refuse`: 502 destination_unreachable).
 */
export type DialerEndReason = 'timeout' | 'listener_gone' | 'dialer_closed' | 'shutdown' | 'key_severed' | 'refused';

/** What a refusal answered: a protocol error code, a 426 or a dialer's 504. */
export type RefusalCode = ErrorCode | 'upgrade_required' | 'timeout';

/** The limits that answer 503 over_capacity. */
export type CapacityLimit =
  | 'connections'
  | 'routes'
  | 'routes_per_key'
  | 'links_per_key'
  | 'waiting_dialers_per_route'
  | 'waiting_dialers_per_key'
  | 'pre_link_bytes'
  | 'spares'
  | 'spares_per_key';

export interface RelayEventMap {
  'route:open': [RouteSnapshot];
  'route:close': [RouteSnapshot & { reason: RouteCloseReason }];
  /** The listener stopped taking new dials (docs/protocol.md, drain). */
  'route:drain': [RouteSnapshot & { by: 'listener' | 'operator' }];
  /** A pool member did not dial back in time and the dial was offered to another (listenerId: the slow one). */
  'dialback:slow': [{ path: string; listenerId: string }];
  /** handshakeMs: from the dial's arrival to both 101s. */
  /**
   * `via`: how the listener's side came: a dial-back, a spare, or (cluster
   * mode) `hop`, a dial-back taken by another node and carried here over the
   * node-to-node hop; `relayed` is that other node's half (it holds the
   * dial-back and the hop, and no dialer).
   */
  'link:open': [LinkSnapshot & { handshakeMs: number; via: LinkVia }];
  'link:close': [LinkSnapshot & { reason: LinkCloseReason }];
  'dialer:end': [{ path: string; dialerAddress: string; reason: DialerEndReason }];
  /** Every refusal the relay writes (http-reply.ts emits it, for sockets it took over). */
  'request:refused': [{ status: number; code: RefusalCode }];
  /** A request whose key was missing, unknown, unusable or out of scope; address without port. */
  'auth:failed': [{ address: string; path: string }];
  /** A request answered 503 because a configured limit was reached. */
  'capacity:reached': [{ limit: CapacityLimit; path: string }];
}

export class RelayEvents extends EventEmitter<RelayEventMap> {}

/** Handlers for some of the relay's events, by name. */
export type RelayEventHandlers = { [K in keyof RelayEventMap]?: (...args: RelayEventMap[K]) => void };

/**
 * Adds the handlers and returns the one function that removes them all, so
 * that a subscription is written once (ws's addListeners/removeListeners).
 */
export function subscribe(events: RelayEvents, handlers: RelayEventHandlers): () => void {
  // Each handler is typed for its own event above; the emitter takes them by name.
  const entries = Object.entries(handlers) as Array<[keyof RelayEventMap, (...args: never[]) => void]>;
  const emitter = events as unknown as { on(name: string, fn: (...args: never[]) => void): void; off(name: string, fn: (...args: never[]) => void): void };
  for (const [name, handler] of entries) emitter.on(name, handler);
  return () => {
    for (const [name, handler] of entries) emitter.off(name, handler);
  };
}
