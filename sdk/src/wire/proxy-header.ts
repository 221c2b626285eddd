/**
 * The PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and 2):
 * its one encoder, which the SDK writes in front of each connection to a
 * PROXY-aware local service, and its one decoder, which the relay reads from
 * a trusted balancer. Both pure: endpoints in, bytes out, and back.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { unmapped } from './ip-text';

export type ProxyProtocolVersion = 'v1' | 'v2';

export const PROXY_PROTOCOL_VERSIONS: readonly ProxyProtocolVersion[] = ['v1', 'v2'];

/** Version 2's 12-byte signature (spec 2.2). */
export const PROXY_V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
/** Spec 2.2: 16 fixed bytes, then as many as the length field says. */
export const V2_FIXED_BYTES = 16;

// ---- encoder ----

/** One end of a proxied connection (the client a header names, or the service it goes to): an IPv4 or IPv6 literal and a TCP port. */
export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** Version 2 in the high nibble; command PROXY (0x1) or LOCAL (0x0) in the low one. */
const V2_PROXY = 0x21;
const V2_LOCAL = 0x20;
/** Address family in the high nibble, transport STREAM (0x1) in the low one; UNSPEC for LOCAL. */
const V2_TCP4 = 0x11;
const V2_TCP6 = 0x21;
const V2_UNSPEC = 0x00;
/** Address block lengths: two addresses then two ports. */
const V2_TCP4_BYTES = 12;
const V2_TCP6_BYTES = 36;

const V1_UNKNOWN = 'PROXY UNKNOWN\r\n';

/** An endpoint as raw bytes: 4 for IPv4, 16 for IPv6. */
interface RawEndpoint {
  bytes: Buffer;
  port: number;
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

// ---- decoder ----

export type ProxyHeaderResult =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  /** `source` is undefined for v1 UNKNOWN, v2 LOCAL and v2 without an IP family: the peer stays the client. */
  | { state: 'done'; headerBytes: number; source: ProxyEndpoint | undefined };

/** Spec 2.1: a v1 line is at most 107 bytes, CRLF included. */
export const MAX_V1_HEADER_BYTES = 107;
export const MAX_V2_HEADER_BYTES = V2_FIXED_BYTES + 0xffff;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const CRLF = Buffer.from('\r\n', 'latin1');

const INCOMPLETE: ProxyHeaderResult = { state: 'incomplete' };

export function parseProxyHeader(bytes: Buffer): ProxyHeaderResult {
  if (bytes.length === 0) return INCOMPLETE;
  if (startsLike(bytes, PROXY_V2_SIGNATURE)) return parseV2(bytes);
  if (startsLike(bytes, V1_PREFIX)) return parseV1(bytes);
  return invalid('not a PROXY protocol header');
}

/** True while the bytes so far agree with `prefix` (a shorter buffer may still become it). */
function startsLike(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(bytes: Buffer): ProxyHeaderResult {
  const end = bytes.subarray(0, MAX_V1_HEADER_BYTES).indexOf(CRLF);
  if (end < 0) return bytes.length >= MAX_V1_HEADER_BYTES ? invalid('v1 line longer than 107 bytes') : INCOMPLETE;
  const headerBytes = end + CRLF.length;
  const fields = bytes.subarray(0, end).toString('latin1').split(' ');
  // UNKNOWN may be followed by anything up to the CRLF (spec 2.1).
  if (fields[1] === 'UNKNOWN') return { state: 'done', headerBytes, source: undefined };
  if (fields.length !== 6) return invalid('v1 line does not have six fields');
  const [, family, source, destination, sourcePort, destinationPort] = fields;
  const isFamily = family === 'TCP4' ? isIPv4 : family === 'TCP6' ? isIPv6 : undefined;
  if (!isFamily) return invalid(`v1 family "${family}"`);
  // A zone id (`fe80::1%eth0`) passes isIPv6 but names no client a proxy can have seen.
  if (!isFamily(source) || !isFamily(destination) || source.includes('%') || destination.includes('%')) return invalid('v1 address');
  const port = portOf(sourcePort);
  if (port === undefined || portOf(destinationPort) === undefined) return invalid('v1 port');
  // One client, one text: IPv6 compressed as v2's addresses are written, an IPv4-mapped one as IPv4.
  return { state: 'done', headerBytes, source: { address: unmapped(family === 'TCP6' ? addressText(ipv6Bytes(source)) : source), port } };
}

function portOf(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 0xffff ? port : undefined;
}

/** Version in the high nibble of byte 12, command in the low one; family and transport in byte 13. */
function parseV2(bytes: Buffer): ProxyHeaderResult {
  if (bytes.length < V2_FIXED_BYTES) return INCOMPLETE;
  const version = bytes[12] >> 4;
  const command = bytes[12] & 0x0f;
  const family = bytes[13] >> 4;
  const transport = bytes[13] & 0x0f;
  const length = bytes.readUInt16BE(14);
  if (version !== 2) return invalid(`v2 version ${version}`);
  if (command > 1) return invalid(`v2 command ${command}`);
  if (family > 3 || transport > 2) return invalid('v2 address family');
  const headerBytes = V2_FIXED_BYTES + length;
  if (bytes.length < headerBytes) return INCOMPLETE;
  // LOCAL (a balancer's own health check), UNSPEC and UNIX: keep the peer (spec 2.2).
  if (command === 0 || family === 0 || family === 3) return { state: 'done', headerBytes, source: undefined };
  const addressBytes = family === 1 ? 4 : 16;
  // Two addresses, then two ports; TLVs may follow and are skipped.
  if (length < addressBytes * 2 + 4) return invalid('v2 address block too short');
  const block = bytes.subarray(V2_FIXED_BYTES, headerBytes);
  const address = unmapped(addressText(block.subarray(0, addressBytes)));
  return { state: 'done', headerBytes, source: { address, port: block.readUInt16BE(addressBytes * 2) } };
}

function invalid(reason: string): ProxyHeaderResult {
  return { state: 'invalid', reason };
}
