/** The dialer: `rwr(s)://` URLs and chained dial strings to a socket already past the WebRoute handshake. */
import type { Socket } from 'node:net';
import { type DeadlineOptions, withDeadline } from './deadline';
import { randomToken } from '../wire/protocol';
import { parseDialString, type RemotedUrl, type UrlKeyOptions } from '../wire/urls';
import { openWebRoute, type RelayTlsOptions } from './webroute-client';

export interface DialOptions extends DeadlineOptions, UrlKeyOptions {
  /**
   * Whole dial, every hop included; rejects with RemotedError code 'timeout'.
   * Default 60 000 (the relay itself answers 504 after its own default timeout).
   */
  timeoutMs?: number;
  /** Cancels the dial; rejects with the signal's reason (an AbortError by default). */
  signal?: AbortSignal;
  /** TLS options for `rwrs` hops (ca, cert, rejectUnauthorized, servername, ...). */
  tls?: RelayTlsOptions;
  /** Sent as WebRoute-Timeout: the link's idle timeout you ask for, in seconds. */
  webRouteTimeoutSeconds?: number;
  /**
   * Bytes sent with the WebRoute request itself (of the last hop), so they
   * reach the listener as soon as the link is made, without waiting for the
   * 101 first: one round trip less for a protocol where the client speaks
   * first. Meant for a first message: the relay refuses (503) a request
   * that brings more than its REMOTED_MAX_PRE_LINK_BYTES (64 KiB by default)
   * in the read that ends its headers. Lost, like the link, if the dial is refused.
   */
  earlyData?: Buffer | string;
}

export interface DialResult {
  socket: Socket;
  /** The first URL in the dial string that is not `rwr(s)`, if any. */
  applicationUrl: string | undefined;
}

export const DEFAULT_DIAL_TIMEOUT_MS = 60_000;

/**
 * Dials a route and resolves to the link: a net.Socket (tls.TLSSocket for
 * `rwrs`) whose first bytes are the listener's. Rejects with a RemotedError
 * whose `code` is the relay's errorcode, 'timeout' or 'upgrade_required'.
 */
export async function dial(url: string, options: DialOptions = {}): Promise<Socket> {
  return (await dialChain(url, options)).socket;
}

/** Like dial(), and also gives back the application URL of a chained dial string. */
export async function dialChain(dialString: string, options: DialOptions = {}): Promise<DialResult> {
  const { hops, applicationUrl } = parseDialString(dialString, { key: options.key });
  const socket = await dialHops(hops, options);
  return { socket, applicationUrl };
}

export function dialHops(hops: readonly RemotedUrl[], options: DialOptions = {}): Promise<Socket> {
  const deadline = { timeoutMs: options.timeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS, signal: options.signal };
  return withDeadline(deadline, async (track) => {
    let link: Socket | undefined;
    const early = typeof options.earlyData === 'string' ? Buffer.from(options.earlyData) : options.earlyData;
    for (const [index, hop] of hops.entries()) {
      const earlyData = index === hops.length - 1 ? early : undefined;
      const request = { url: hop, id: randomToken(), timeoutSeconds: options.webRouteTimeoutSeconds, earlyData };
      // Each hop after the first is requested through the link the one before made.
      ({ socket: link } = await openWebRoute(request, { tls: options.tls, through: link, onSocket: track }));
    }
    if (!link) throw new Error('bug: a dial string without hops');
    return link;
  });
}
