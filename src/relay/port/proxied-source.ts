/**
 * The client address a PROXY protocol header named, kept on the socket it
 * came in on (a symbol: the socket is Node's, not ours) for client-address.ts.
 */
import type { Socket } from 'node:net';
import type { ProxyEndpoint } from '@remoted/sdk/wire/proxy-header';

const kProxiedSource = Symbol('remoted.proxiedSource');

type MaybeProxied = Socket & { [kProxiedSource]?: ProxyEndpoint };

export function setProxiedSource(socket: Socket, source: ProxyEndpoint): void {
  (socket as MaybeProxied)[kProxiedSource] = source;
}

/**
 * The header's client, for the raw socket or the TLS socket over it (the
 * header comes before the handshake, so it was read from the raw one).
 */
export function proxiedSourceOf(socket: Socket): ProxyEndpoint | undefined {
  const own = (socket as MaybeProxied)[kProxiedSource];
  if (own) return own;
  // Node's TLSSocket keeps the socket it wraps as `_parent` (long-standing, relied on widely).
  const inner = (socket as Socket & { _parent?: unknown })._parent;
  return typeof inner === 'object' && inner !== null ? (inner as MaybeProxied)[kProxiedSource] : undefined;
}
