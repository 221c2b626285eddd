/**
 * Reads a PROXY protocol header (haproxy's proxy-protocol.txt, versions 1 and
 * 2, told apart by their first bytes) from the start of a connection. Pure:
 * give it the bytes received so far; it says whether more are needed, the
 * header is bad, or where it ends and which client it names.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { unmapped } from './ip-address';

/** The client a proxy names: an IP literal and a TCP port. */
export interface ProxiedEndpoint {
  address: string;
  port: number;
}

export type ProxyHeaderResult =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  /** `source` is undefined for v1 UNKNOWN, v2 LOCAL and v2 without an IP family: the peer stays the client. */
  | { state: 'done'; headerBytes: number; source: ProxiedEndpoint | undefined };

/** Spec 2.1: a v1 line is at most 107 bytes, CRLF included. */
export const MAX_V1_HEADER_BYTES = 107;
/** Spec 2.2: 16 fixed bytes, then as many as the length field says. */
export const V2_FIXED_BYTES = 16;
export const MAX_V2_HEADER_BYTES = V2_FIXED_BYTES + 0xffff;

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const CRLF = Buffer.from('\r\n', 'latin1');

const INCOMPLETE: ProxyHeaderResult = { state: 'incomplete' };

export function parseProxyHeader(bytes: Buffer): ProxyHeaderResult {
  if (bytes.length === 0) return INCOMPLETE;
  if (startsLike(bytes, V2_SIGNATURE)) return parseV2(bytes);
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
  return { state: 'done', headerBytes, source: { address: unmapped(canonical(family, source)), port } };
}

/** IPv6 in its compressed canonical form (as v2's addresses are written), so one client has one text. */
function canonical(family: string, address: string): string {
  return family === 'TCP6' ? new URL(`http://[${address}]/`).hostname.slice(1, -1) : address;
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
  const address = addressText(block.subarray(0, addressBytes));
  return { state: 'done', headerBytes, source: { address, port: block.readUInt16BE(addressBytes * 2) } };
}

/** Dotted IPv4, or compressed IPv6; an IPv4-mapped IPv6 address is given as the IPv4 one. */
function addressText(raw: Buffer): string {
  if (raw.length === 4) return [...raw].join('.');
  const mapped = raw.subarray(0, 10).every((b) => b === 0) && raw.readUInt16BE(10) === 0xffff;
  if (mapped) return [...raw.subarray(12)].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => raw.readUInt16BE(i * 2).toString(16)).join(':');
  // The WHATWG URL parser writes IPv6 in its canonical form (longest zero run as ::).
  return new URL(`http://[${groups}]/`).hostname.slice(1, -1);
}


function invalid(reason: string): ProxyHeaderResult {
  return { state: 'invalid', reason };
}
