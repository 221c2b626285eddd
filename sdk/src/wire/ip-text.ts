/**
 * IP address text as the relay compares and counts it, one text per client:
 * the relay's client addresses and the PROXY header decoder use it alike.
 */
import { isIPv4 } from 'node:net';

/**
 * An IPv4-mapped IPv6 address (an IPv4 peer on a dual-stack socket, or an
 * IPv4 client named in a mixed-family PROXY header) as the IPv4 address it
 * maps, in its dotted (`::ffff:1.2.3.4`) and hex (`::ffff:102:304`) forms;
 * any other address as it is.
 */
export function unmapped(ip: string): string {
  const lower = ip.toLowerCase();
  if (!lower.startsWith('::ffff:')) return ip;
  const tail = lower.slice('::ffff:'.length);
  if (isIPv4(tail)) return tail;
  const hex = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(tail);
  if (!hex) return ip;
  const high = parseInt(hex[1], 16);
  const low = parseInt(hex[2], 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}
