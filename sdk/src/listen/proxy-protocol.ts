/**
 * PROXY protocol headers for the hidden server: written first on each
 * connection to the local service, they tell a PROXY-aware server (nginx,
 * HAProxy, ...) the dialer's address that the relay sent in the notify
 * message, instead of our own. The header itself is wire/proxy-header.ts.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { dialerAddressOf } from './dialer-address';
import { buildProxyHeader, type ProxyEndpoint, type ProxyProtocolVersion } from '../wire/proxy-header';

export { buildProxyHeader, PROXY_PROTOCOL_VERSIONS, PROXY_V2_SIGNATURE, type ProxyEndpoint, type ProxyProtocolVersion } from '../wire/proxy-header';

/**
 * The header for one connection accepted through the relay: the source is
 * the dialer's address kept on `socket` (dialerAddressOf), the destination
 * the local service it is sent to. When either is missing or unreadable,
 * v1 says `PROXY UNKNOWN` and v2 uses the LOCAL command, so the server falls
 * back to the connection's own addresses.
 */
export function proxyHeader(socket: Duplex, destination: ProxyEndpoint | undefined, version: ProxyProtocolVersion): Buffer {
  return buildProxyHeader(version, parseDialerAddress(dialerAddressOf(socket)), destination);
}

/**
 * The notify message's `ipaddr` as an endpoint: `203.0.113.7:51234`,
 * `[2001:db8::1]:51234`, or a bare address (port 0, as the original relay may
 * send). Undefined for anything else (a zone id, a name, an empty string).
 */
export function parseDialerAddress(ipaddr: string | undefined): ProxyEndpoint | undefined {
  if (!ipaddr) return undefined;
  const match = /^\[([^\]]+)\]:(\d{1,5})$/.exec(ipaddr) ?? /^([^:[\]]+):(\d{1,5})$/.exec(ipaddr);
  const address = match ? match[1] : ipaddr.replace(/^\[(.*)\]$/, '$1');
  const port = match ? Number(match[2]) : 0;
  if (port > 0xffff || !(isIPv4(address) || isIPv6(address)) || address.includes('%')) return undefined;
  return { address, port };
}
