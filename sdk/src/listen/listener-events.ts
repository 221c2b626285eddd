/**
 * The events of a RemotedServer: Node's names for those of net.Server, and
 * `object:verb` names for the route's life. Payloads other than
 * 'connection''s socket are plain objects.
 */
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface RemotedAddress {
  host: string;
  port: number;
  path: string;
  secure: boolean;
}

export interface RouteOpenEvent {
  /** The listen URL without its key. */
  url: string;
  /** False for the first open, true after a reconnect. */
  reconnected: boolean;
  /** X-Remoted-Listener-ID when the relay grants listener features. */
  listenerId: string | undefined;
  /** Spares kept open on this WebSocket: min(options.spares, the relay's grant). */
  spares: number;
}
export interface RouteLostEvent {
  url: string;
  code: number;
  reason: string;
}
export interface RouteRetryEvent {
  attempt: number;
  delayMs: number;
  /** Why the previous try failed. */
  error: Error | undefined;
}
export interface DialBackErrorEvent {
  id: string;
  dialerAddress: string;
  attempts: number;
  error: Error;
}
export interface DialRefusedEvent {
  id: string;
  dialerAddress: string;
  /** What options.openTarget rejected with. */
  error: Error;
  /** True: the relay was told ({"op":"refuse"}) and answers the dialer 502; false: the link was closed instead (a relay without `refuse`, or a spare). */
  told: boolean;
}
export interface DrainEvent {
  /** `listener`: drain() was called; `operator`: the relay was told to drain us (control plane). */
  by: 'listener' | 'operator';
}

export interface RemotedServerEvents {
  listening: [];
  /** `target`: what options.openTarget resolved to for this dial (undefined without it). */
  connection: [socket: Socket, target: Duplex | undefined];
  error: [err: Error];
  close: [];
  /** No new links from now on; 'close' follows once every connection emitted has closed. */
  drain: [event: DrainEvent];
  'route:open': [event: RouteOpenEvent];
  'route:lost': [event: RouteLostEvent];
  'route:retry': [event: RouteRetryEvent];
  'dialback:error': [event: DialBackErrorEvent];
  /** options.openTarget failed for a dial: it was refused. */
  'dial:refused': [event: DialRefusedEvent];
}
