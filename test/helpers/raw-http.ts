/**
 * A client that speaks raw HTTP/1.1 over TCP, as the original SDKs do, so that
 * tests see exactly the bytes the relay writes.
 */
import { connect, type Socket } from 'node:net';
import { randomToken } from '@remoted/sdk/protocol';

export interface RawResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  /** The response head as received, for byte-exact checks. */
  head: string;
  body: string;
  socket: Socket;
  /** Bytes after the head that came in the same reads (for a 101: link bytes). */
  rest: Buffer;
}

export interface RawRequestOptions {
  method?: string;
  headers?: Record<string, string | undefined>;
  /** Bytes sent in the same write as the request head. */
  extra?: Buffer | string;
  /** Write exactly this instead of building a request. */
  raw?: Buffer | string;
  timeoutMs?: number;
}

export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

export function buildRequest(path: string, method: string, headers: Record<string, string | undefined>): string {
  let text = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}

/** Sends a request and resolves with the response head (and body, for non-101). */
export async function rawRequest(port: number, path: string, opts: RawRequestOptions = {}): Promise<RawResponse> {
  const socket = await connectTo(port);
  const request = opts.raw ?? buildRequest(path, opts.method ?? 'GET', opts.headers ?? {});
  socket.write(opts.extra ? Buffer.concat([Buffer.from(request), Buffer.from(opts.extra)]) : request);
  return readResponse(socket, opts.timeoutMs ?? 5000);
}

export function readResponse(socket: Socket, timeoutMs = 5000): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err?: Error, response?: RawResponse): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      if (err) reject(err);
      else resolve(response!);
    };
    const tryParse = (ended: boolean): void => {
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) {
        if (ended) finish(new Error(`connection closed before a response head (${buffered.length} bytes)`));
        return;
      }
      const head = buffered.subarray(0, end).toString('latin1');
      const [statusLine, ...lines] = head.split('\r\n');
      const status = Number(statusLine.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = buffered.subarray(end + 4);
      if (status === 101) {
        socket.pause();
        return finish(undefined, { status, headers, head, body: '', socket, rest });
      }
      const length = Number(headers['content-length'] ?? NaN);
      if (Number.isFinite(length) ? rest.length >= length : ended) {
        finish(undefined, { status, headers, head, body: rest.toString('utf8'), socket, rest: Buffer.alloc(0) });
      }
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      tryParse(false);
    };
    const onEnd = (): void => tryParse(true);
    const onError = (err: Error): void => finish(err);
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
  });
}

export function webRouteHeaders(key: string | undefined, id: string = randomToken(), extra: Record<string, string> = {}): Record<string, string | undefined> {
  return {
    Connection: 'keep-alive, Upgrade',
    Upgrade: 'webroute',
    'WebRoute-Version': '1',
    'WebRoute-ID': id,
    'X-Remoted-APIKey': key,
    ...extra,
  };
}

/** Resolves when the socket is fully closed; rejects if that takes longer than timeoutMs. */
export function closed(socket: Socket, timeoutMs = 5000): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
  });
}

/** Reads until the socket ends and returns everything it sent. */
export function readAll(socket: Socket, first: Buffer = Buffer.alloc(0)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [first];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
    socket.resume();
  });
}

/** Reads exactly n bytes (beyond `first`). */
export function readBytes(socket: Socket, n: number, first: Buffer = Buffer.alloc(0), timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let got = first;
    const timer = setTimeout(() => done(new Error(`got ${got.length} of ${n} bytes in ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', done);
      if (err) reject(err);
      else resolve(got.subarray(0, n));
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (got.length >= n) {
        if (got.length > n) socket.unshift(got.subarray(n));
        got = got.subarray(0, n);
        done();
      }
    };
    if (got.length >= n) return done();
    socket.on('data', onData);
    socket.on('error', done);
    socket.resume();
  });
}
