/**
 * PROXY protocol headers (haproxy's proxy-protocol.txt, versions 1 and 2)
 * for the hidden server: written first on each connection to the local
 * service, they tell a PROXY-aware server (nginx, HAProxy, ...) the dialer's
 * address that the relay sent in the notify message, instead of our own.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Duplex } from 'node:stream';
import { dialerAddressOf } from './dialer-address';

export type ProxyProtocolVersion = 'v1' | 'v2';

export const PROXY_PROTOCOL_VERSIONS: readonly ProxyProtocolVersion[] = ['v1', 'v2'];

/** One end of the proxied connection: an IPv4 or IPv6 literal and a TCP port. */
export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** Version 2's 12-byte signature (spec 2.2). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** Version 2 in the high nibble; command PROXY (0x1) or LOCAL (0x0) in the low one. */
const V2_PROXY = 0x21;
const V2_LOCAL = 0x20;
/** Address family in the high nibble, transport STREAM (0x1) in the low one; UNSPEC for LOCAL. */
const V2_TCP4 = 0x11;
const V2_TCP6 = 0x21;
const V2_UNSPEC = 0x00;
const V2_FIXED_BYTES = 16;
/** Address block lengths: two addresses then two ports. */
const V2_TCP4_BYTES = 12;
const V2_TCP6_BYTES = 36;

const V1_UNKNOWN = 'PROXY UNKNOWN\r\n';

/** An endpoint as raw bytes: 4 for IPv4, 16 for IPv6. */
interface RawEndpoint {
  bytes: Buffer;
  port: number;
}

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

/** A PROXY header from `source` to `destination`; an unknown endpoint gives v1 UNKNOWN or v2 LOCAL. */
export function buildProxyHeader(version: ProxyProtocolVersion, source: ProxyEndpoint | undefined, destination: ProxyEndpoint | undefined): Buffer {
  let src = source && toRaw(source);
  let dst = destination && toRaw(destination);
  // Mixed families: both as IPv6, the IPv4 one mapped (::ffff:a.b.c.d), as haproxy does.
  if (src && dst && src.bytes.length !== dst.bytes.length) {
    src = toIPv6(src);
    dst = toIPv6(dst);
  }
  if (version === 'v1') return src && dst ? v1Line(src, dst) : Buffer.from(V1_UNKNOWN, 'latin1');
  return src && dst ? v2Proxy(src, dst) : v2Local();
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

function toRaw({ address, port }: ProxyEndpoint): RawEndpoint | undefined {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) return undefined;
  const bytes = isIPv4(address) ? ipv4Bytes(address) : isIPv6(address) && !address.includes('%') ? ipv6Bytes(address) : undefined;
  return bytes && { bytes, port };
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** 16 bytes of a valid IPv6 literal (net.isIPv6 checked it): `::` expanded, a dotted IPv4 tail read. */
function ipv6Bytes(address: string): Buffer {
  const bytes = Buffer.alloc(16);
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const groups = (text: string | undefined): number[] => {
    if (!text) return [];
    return text.split(':').flatMap((part) => {
      if (!part.includes('.')) return [parseInt(part, 16)];
      const [a, b, c, d] = ipv4Bytes(part);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const front = groups(head);
  const back = groups(tail);
  front.forEach((group, i) => bytes.writeUInt16BE(group, i * 2));
  back.forEach((group, i) => bytes.writeUInt16BE(group, 16 - (back.length - i) * 2));
  return bytes;
}

function toIPv6(endpoint: RawEndpoint): RawEndpoint {
  if (endpoint.bytes.length === 16) return endpoint;
  const bytes = Buffer.alloc(16);
  bytes.writeUInt16BE(0xffff, 10);
  endpoint.bytes.copy(bytes, 12);
  return { bytes, port: endpoint.port };
}

/**
 * The spec's text forms: IPv4 as four decimals without leading zeros; IPv6 as
 * hex groups, lower case, the longest run of two or more zero groups as `::`.
 */
function addressText(bytes: Buffer): string {
  if (bytes.length === 4) return [...bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end += 1;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = (list: number[]): string => list.map((group) => group.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

function v1Line(src: RawEndpoint, dst: RawEndpoint): Buffer {
  const family = src.bytes.length === 4 ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${family} ${addressText(src.bytes)} ${addressText(dst.bytes)} ${src.port} ${dst.port}\r\n`, 'latin1');
}

function v2Proxy(src: RawEndpoint, dst: RawEndpoint): Buffer {
  const ipv4 = src.bytes.length === 4;
  const addressBytes = ipv4 ? V2_TCP4_BYTES : V2_TCP6_BYTES;
  const header = Buffer.alloc(V2_FIXED_BYTES + addressBytes);
  PROXY_V2_SIGNATURE.copy(header, 0);
  header[12] = V2_PROXY;
  header[13] = ipv4 ? V2_TCP4 : V2_TCP6;
  header.writeUInt16BE(addressBytes, 14);
  let offset = V2_FIXED_BYTES;
  offset += src.bytes.copy(header, offset);
  offset += dst.bytes.copy(header, offset);
  offset = header.writeUInt16BE(src.port, offset);
  header.writeUInt16BE(dst.port, offset);
  return header;
}

/** LOCAL: the receiver keeps the connection's own addresses and skips the (empty) address block. */
function v2Local(): Buffer {
  const header = Buffer.alloc(V2_FIXED_BYTES);
  PROXY_V2_SIGNATURE.copy(header, 0);
  header[12] = V2_LOCAL;
  header[13] = V2_UNSPEC;
  header.writeUInt16BE(0, 14);
  return header;
}
