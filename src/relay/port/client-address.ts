/**
 * The address a request came from. Behind a reverse proxy the TCP peer is the
 * proxy, so X-Forwarded-For / X-Real-IP name the client; they are believed
 * only when the peer is a configured trusted proxy, since anyone else can
 * write them. With the PROXY protocol on, the client its header named takes
 * the TCP peer's place.
 */
import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { formatAddress } from '@remoted/sdk/wire/protocol';
import { unmapped } from '@remoted/sdk/wire/ip-text';
import { proxiedSourceOf } from './proxied-source';

export interface ClientAddress {
  /** The IP alone: what throttling counts by. */
  ip: string;
  /** The protocol's `ipaddr` form, `1.2.3.4:5` or `[::1]:5`; port 0 when a proxy named the client. */
  display: string;
}

export class TrustedProxies {
  private readonly list = new BlockList();
  private readonly empty: boolean;

  /** `spec`: comma-separated addresses and CIDRs; throws on a bad entry, so a typo stops the start. */
  constructor(spec: string | undefined) {
    const entries = (spec ?? '').split(',').map((e) => e.trim()).filter((e) => e !== '');
    for (const entry of entries) {
      const [address, bits, extra] = entry.split('/');
      const family = isIP(address);
      // Digits only: Number() would read "" (a trailing "/") as 0 and trust every address, and take "0x8" or "1e1".
      const prefix = bits === undefined ? (family === 6 ? 128 : 32) : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
      const max = family === 6 ? 128 : 32;
      if (family === 0 || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
        throw new Error(`trusted proxies: "${entry}" is not an address or CIDR`);
      }
      this.list.addSubnet(address, prefix, family === 6 ? 'ipv6' : 'ipv4');
    }
    this.empty = entries.length === 0;
  }

  /** False when no proxy is trusted at all. */
  get any(): boolean {
    return !this.empty;
  }

  has(ip: string): boolean {
    if (this.empty) return false;
    const family = isIP(ip);
    return family !== 0 && this.list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  }

  /** The request's client: the peer, or the client a trusted proxy names. */
  resolve(req: IncomingMessage): ClientAddress {
    const socket = req.socket;
    // A client named in a PROXY header (read by ProxyProtocolGate from a trusted proxy) stands for the TCP peer.
    const proxied = proxiedSourceOf(socket);
    const peer = unmapped(proxied?.address ?? socket.remoteAddress ?? '');
    const peerAddress = { ip: peer, display: formatAddress(peer, proxied ? proxied.port : socket.remotePort) };
    if (!this.has(peer)) return peerAddress;
    const forwarded = this.fromForwardedFor(req.headers['x-forwarded-for']) ?? validIp(single(req.headers['x-real-ip']));
    return forwarded === undefined ? peerAddress : { ip: forwarded, display: formatAddress(forwarded, 0) };
  }

  /**
   * The rightmost hop that is not a trusted proxy: entries to its left were
   * written by the client and prove nothing. A malformed hop ends the walk.
   */
  private fromForwardedFor(header: string | string[] | undefined): string | undefined {
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => h.trim()).filter((h) => h !== '');
    let candidate: string | undefined;
    for (let i = hops.length - 1; i >= 0; i--) {
      const ip = validIp(hops[i]);
      if (ip === undefined) break;
      candidate = ip;
      if (!this.has(ip)) break;
    }
    return candidate;
  }
}


function validIp(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ip = unmapped(value.trim());
  return isIP(ip) === 0 ? undefined : ip;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
