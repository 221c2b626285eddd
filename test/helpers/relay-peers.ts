/**
 * The two peers of a link, written from PROTOCOL.md with plain sockets and
 * `ws`: a listener that opens a route and collects notify messages, and the
 * dial / dial-back requests that make a link.
 */
import type { Socket } from 'node:net';
import WebSocket, { type ClientOptions } from 'ws';
import { type NotifyMessage, randomToken } from '@remoted/sdk/protocol';
import { rawRequest, type RawResponse, webRouteHeaders } from './raw-http';

export class TestListener {
  readonly notices: NotifyMessage[] = [];
  readonly rawNotices: string[] = [];
  private waiters: Array<(n: NotifyMessage) => void> = [];
  closeCode: number | undefined;
  closeReason = '';

  private constructor(
    readonly ws: WebSocket,
    /** The relay's 101 headers, lower-case names. */
    readonly upgradeHeaders: Record<string, string | string[] | undefined>,
  ) {
    ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
    });
    ws.on('message', (data) => {
      const text = data.toString();
      this.rawNotices.push(text);
      const notice = JSON.parse(text) as NotifyMessage;
      const waiter = this.waiters.shift();
      if (waiter) waiter(notice);
      else this.notices.push(notice);
    });
  }

  static open(port: number, path: string, key: string): Promise<TestListener> {
    return TestListener.openUrl(`ws://127.0.0.1:${port}${path}`, key);
  }

  /** A listener over any WebSocket URL (wss, through a proxy, from a chosen source address). */
  static openUrl(url: string, key: string, options: ClientOptions = {}): Promise<TestListener> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { ...options, headers: { 'X-Remoted-APIKey': key, ...options.headers } });
      let upgradeHeaders: Record<string, string | string[] | undefined> = {};
      ws.once('upgrade', (res) => (upgradeHeaders = res.headers));
      ws.once('open', () => resolve(new TestListener(ws, upgradeHeaders)));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          ws.terminate();
          reject(Object.assign(new Error(`refused ${res.statusCode}: ${body}`), { status: res.statusCode, body }));
        });
      });
      ws.once('error', reject);
    });
  }

  nextNotice(timeoutMs = 5000): Promise<NotifyMessage> {
    const queued = this.notices.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no notify message')), timeoutMs);
      this.waiters.push((n) => {
        clearTimeout(timer);
        resolve(n);
      });
    });
  }

  /** Resolves with the close code once the relay (or anyone) closed the WebSocket. */
  closed(timeoutMs = 5000): Promise<number | undefined> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve(this.closeCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('listener not closed')), timeoutMs);
      this.ws.once('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}

export interface PendingDial {
  id: string;
  response: Promise<RawResponse>;
}

/** Sends a dial; the response comes only when the link is made (or refused). */
export function startDial(port: number, path: string, key: string, opts: { id?: string; extra?: Buffer | string; headers?: Record<string, string> } = {}): PendingDial {
  const id = opts.id ?? randomToken();
  return { id, response: rawRequest(port, path, { headers: webRouteHeaders(key, id, opts.headers), extra: opts.extra }) };
}

export function dialBack(port: number, path: string, key: string, id: string, opts: { extra?: Buffer | string; headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return rawRequest(port, path, { headers: webRouteHeaders(key, id, opts.headers), extra: opts.extra });
}

export interface LinkedPair {
  dialer: RawResponse;
  listenerSide: RawResponse;
  notice: NotifyMessage;
}

/** Makes one full link: dial, notify, dial-back, both 101s. */
export async function makeLink(
  port: number,
  path: string,
  listener: TestListener,
  keys: { server: string; client: string },
  opts: { dialerExtra?: Buffer | string; listenerExtra?: Buffer | string } = {},
): Promise<LinkedPair> {
  const dial = startDial(port, path, keys.client, { extra: opts.dialerExtra });
  const notice = await listener.nextNotice();
  const listenerSide = await dialBack(port, path, keys.server, notice.id, { extra: opts.listenerExtra });
  const dialer = await dial.response;
  return { dialer, listenerSide, notice };
}

/** A socket past its 101 with the bytes that came with it put back, ready to read. */
export function linkedSocket(response: RawResponse): Socket {
  if (response.rest.length > 0) response.socket.unshift(response.rest);
  return response.socket;
}
