/**
 * The dialer's address the relay told the listener (`ipaddr` of the notify
 * message, e.g. `203.0.113.7:51234` or `[2001:db8::1]:51234`), kept on each
 * accepted socket under a symbol (as undici keeps its state on sockets it
 * does not own). A symbol rather than a WeakMap: HTTP/2 hands out a Proxy of
 * the socket, which forwards property reads but is not the socket itself.
 */
import type { Duplex } from 'node:stream';

/** Symbol.for: two copies of the SDK in one process still read each other's sockets. */
const kDialerAddress = Symbol.for('remoted.dialerAddress');

interface Marked {
  [kDialerAddress]?: string;
  /** Where a TLSSocket made by tls.Server keeps the socket it wraps. */
  _parent?: unknown;
}

export function setDialerAddress(socket: Duplex, address: string): void {
  Object.defineProperty(socket, kDialerAddress, { value: address, enumerable: false, configurable: true });
}

/**
 * The dialer's address for a connection accepted through the relay, or
 * undefined for any other socket. Also works on what a tls, https or http2
 * server puts around the accepted socket (`req.socket` there).
 */
export function dialerAddressOf(socket: Duplex | object | null | undefined): string | undefined {
  let current: unknown = socket;
  // A TLS socket over ours, possibly seen through HTTP/2's proxy: a few layers at most.
  for (let depth = 0; typeof current === 'object' && current !== null && depth < 4; depth++) {
    const marked = current as Marked;
    const found = marked[kDialerAddress];
    if (typeof found === 'string') return found;
    current = marked._parent;
  }
  return undefined;
}
