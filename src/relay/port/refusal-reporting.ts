/**
 * Which relay's events hear about a refusal written on a socket. The writers
 * of refusals (http-reply.ts) are plain functions called from many owners; a
 * symbol on the socket (undici's way of hanging state on objects it does not
 * own) lets the one writer report each refusal without every caller passing
 * the relay's events along, and keeps two relays in one process apart.
 */
import type { Duplex } from 'node:stream';
import type { RefusalCode, RelayEvents } from '../context/relay-events';

const kRefusalEvents = Symbol('remoted:refusal-events');

type Reporting = Duplex & { [kRefusalEvents]?: RelayEvents };

/** From now on, refusals written on this socket are emitted on these events. */
export function reportRefusalsTo(socket: Duplex, events: RelayEvents): void {
  (socket as Reporting)[kRefusalEvents] = events;
}

export function reportRefusal(socket: Duplex, status: number, code: RefusalCode): void {
  (socket as Reporting)[kRefusalEvents]?.emit('request:refused', { status, code });
}
