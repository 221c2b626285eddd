/**
 * The listener: a net.Server look-alike whose connections come through the
 * relay. It holds one WebSocket on its route (PROTOCOL.md 1); for each notify
 * message it dials back (3) and emits the linked socket as 'connection'.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { backoffDelayMs, DEFAULT_RECONNECT, type ReconnectOptions } from './backoff';
import { setDialerAddress } from './dialer-address';
import { withDeadline } from './deadline';
import { type NotifyMessage, RemotedError, WIRE_HEADER_API_KEY } from './protocol';
import { MAX_REFUSAL_BODY_BYTES, refusalError } from './relay-refusal';
import { openTransport, type RelayTlsOptions, transportReady } from './relay-transport';
import { parseListenUrl, redactUrl, type RemotedUrl } from './urls';
import { upgradeToWebRoute } from './webroute-upgrade';

export interface ListenOptions {
  /** Reconnect the WebSocket after a drop; `false` turns a drop into 'error' and 'close'. */
  reconnect?: ReconnectOptions | false;
  /** Tries per dial-back when the relay cannot be reached (the original tries 3 times). Default 3. */
  dialBackAttempts?: number;
  /** Wait before dial-back try n+1 is n times this. Default 200 ms. */
  dialBackRetryDelayMs?: number;
  /** Bound on the WebSocket handshake and on each dial-back. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** We ping the relay this often and drop a WebSocket that missed a pong. 0 turns it off. Default 30 000 ms. */
  pingIntervalMs?: number;
  /** TLS options for `rwss` (ca, cert, rejectUnauthorized, servername, ...). */
  tls?: RelayTlsOptions;
  /** Origin header of the WebSocket (the original relay requires one). Default the relay's http(s) URL. */
  origin?: string;
}

export interface RemotedAddress {
  host: string;
  port: number;
  path: string;
  secure: boolean;
}

export interface RouteOpenEvent {
  /** The listen URL without its key. */
  url: string;
  /** False for the first open, true after a reconnect. */
  reconnected: boolean;
}
export interface RouteLostEvent {
  url: string;
  code: number;
  reason: string;
}
export interface RouteRetryEvent {
  attempt: number;
  delayMs: number;
  /** Why the previous try failed. */
  error: Error | undefined;
}
export interface DialBackErrorEvent {
  id: string;
  dialerAddress: string;
  attempts: number;
  error: Error;
}

export interface RemotedServerEvents {
  listening: [];
  connection: [socket: Socket];
  error: [err: Error];
  close: [];
  'route:open': [event: RouteOpenEvent];
  'route:lost': [event: RouteLostEvent];
  'route:retry': [event: RouteRetryEvent];
  'dialback:error': [event: DialBackErrorEvent];
}

/** Notify messages are about 120 bytes; anything near this is not one. */
const MAX_RELAY_MESSAGE_BYTES = 64 * 1024;

/** close() waits this long for the relay's closing handshake, then drops the socket (ws would wait 30 s). */
const CLOSE_GRACE_MS = 1000;

const DEFAULTS = {
  dialBackAttempts: 3,
  dialBackRetryDelayMs: 200,
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
};

/** Refusals that no retry will change. path_in_use is retried after a drop: the relay may not have seen our old socket go. */
const FATAL_CODES = new Set<string>(['invalid_missing_apikey', 'invalid_request', 'headers_too_large', 'upgrade_required', 'path_in_use']);

export class RemotedServer extends EventEmitter<RemotedServerEvents> {
  private url: RemotedUrl | undefined;
  private ws: WebSocket | undefined;
  private lastError: Error | undefined;
  private everOpened = false;
  private open = false;
  private closing = false;
  private closeEmitted = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongSeen = true;
  /** Sockets of dial-backs in progress: destroyed on close(). */
  private readonly pending = new Set<Socket>();
  private readonly reconnect: Required<ReconnectOptions> | false;

  constructor(private readonly options: ListenOptions = {}) {
    super();
    this.reconnect = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  /** Starts listening on an `rws://` or `rwss://` URL; 'listening' once the relay accepted the route. */
  listen(url: string, onListening?: () => void): this {
    if (this.url) throw new Error('This RemotedServer is already listening.');
    this.url = parseListenUrl(url);
    if (onListening) this.once('listening', onListening);
    this.connect();
    return this;
  }

  get listening(): boolean {
    return this.open;
  }

  address(): RemotedAddress | null {
    if (!this.open || !this.url) return null;
    return { host: this.url.host, port: this.url.port, path: this.url.path, secure: this.url.secure };
  }

  /**
   * Stops listening: the route is given back and dial-backs in progress are
   * dropped. Connections already emitted are the application's and stay open.
   */
  close(onClose?: (err?: Error) => void): this {
    if (onClose) {
      if (this.closeEmitted) process.nextTick(onClose);
      else this.once('close', () => onClose());
    }
    if (this.closing) return this;
    this.closing = true;
    this.open = false;
    clearTimeout(this.retryTimer);
    this.stopPing();
    for (const socket of this.pending) socket.destroy();
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      if (ws.readyState === WebSocket.OPEN) {
        ws.close(1000);
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      } else {
        ws.terminate();
      }
    } else {
      process.nextTick(() => this.emitClose());
    }
    return this;
  }

  private connect(): void {
    const url = this.url;
    if (!url || this.closing) return;
    const scheme = url.secure ? 'wss' : 'ws';
    const httpScheme = url.secure ? 'https' : 'http';
    const wsOptions: ClientOptions = {
      ...(this.options.tls as ClientOptions | undefined),
      headers: { [WIRE_HEADER_API_KEY]: url.key },
      origin: this.options.origin ?? `${httpScheme}://${url.hostHeader}`,
      perMessageDeflate: false,
      maxPayload: MAX_RELAY_MESSAGE_BYTES,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    };
    this.lastError = undefined;
    const ws = new WebSocket(`${scheme}://${url.hostHeader}${url.path}`, wsOptions);
    this.ws = ws;
    ws.on('open', () => this.onOpen());
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onMessage(data);
    });
    ws.on('unexpected-response', (req, res) => this.onRefused(ws, req, res));
    ws.on('error', (err) => {
      this.lastError ??= err;
    });
    ws.on('ping', () => {
      this.pongSeen = true;
    });
    ws.on('pong', () => {
      this.pongSeen = true;
    });
    ws.on('close', (code, reason) => this.onWsClose(ws, code, reason.toString()));
  }

  private onOpen(): void {
    const reconnected = this.everOpened;
    this.everOpened = true;
    this.open = true;
    this.attempt = 0;
    this.startPing();
    this.emit('route:open', { url: this.redacted(), reconnected });
    if (!reconnected) this.emit('listening');
  }

  /** The relay answered the WebSocket upgrade with a refusal: read its JSON body for the code. */
  private onRefused(ws: WebSocket, req: { destroy(): void }, res: IncomingMessage): void {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (): void => {
      this.lastError = refusalError(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
      req.destroy();
      ws.terminate();
    };
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REFUSAL_BODY_BYTES) chunks.push(chunk);
    });
    res.once('end', finish);
    res.once('error', finish);
  }

  private onWsClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.stopPing();
    const wasOpen = this.open;
    this.open = false;
    if (this.closing) return this.emitClose();
    if (wasOpen) this.emit('route:lost', { url: this.redacted(), code, reason });
    const error = this.lastError;
    if (error instanceof RemotedError && FATAL_CODES.has(error.code) && !(error.code === 'path_in_use' && this.everOpened)) {
      return this.fail(error);
    }
    this.scheduleReconnect(error ?? new RemotedError('protocol_error', `The relay closed the listener's WebSocket (${code}).`));
  }

  private scheduleReconnect(error: Error): void {
    if (!this.reconnect || this.attempt >= this.reconnect.maxAttempts) return this.fail(error);
    this.attempt += 1;
    const delayMs = backoffDelayMs(this.attempt, this.reconnect);
    this.emit('route:retry', { attempt: this.attempt, delayMs, error });
    this.retryTimer = setTimeout(() => this.connect(), delayMs);
  }

  private fail(error: Error): void {
    this.closing = true;
    // An 'error' with no listener would throw, as for net.Server.
    this.emit('error', error);
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  }

  private onMessage(data: RawData): void {
    const notify = parseNotify(data);
    // The original relay sends "id": false for refused dialers; nothing to dial back then.
    if (!notify) return;
    void this.dialBack(notify);
  }

  private async dialBack(notify: NotifyMessage): Promise<void> {
    const url = this.url;
    if (!url) return;
    const attempts = Math.max(1, this.options.dialBackAttempts ?? DEFAULTS.dialBackAttempts);
    const retryDelayMs = this.options.dialBackRetryDelayMs ?? DEFAULTS.dialBackRetryDelayMs;
    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= attempts && !this.closing; attempt++) {
      try {
        const socket = await this.openDialBack(url, notify);
        setDialerAddress(socket, notify.ipaddr);
        if (this.closing) {
          socket.destroy();
          return;
        }
        this.emit('connection', socket);
        return;
      } catch (err) {
        lastError = err as Error;
        // The relay answered: the dialer is gone or the key is refused; trying again changes nothing.
        if (err instanceof RemotedError) break;
        if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
      }
    }
    if (lastError && !this.closing) {
      this.emit('dialback:error', { id: notify.id, dialerAddress: notify.ipaddr, attempts, error: lastError });
    }
  }

  private openDialBack(url: RemotedUrl, notify: NotifyMessage): Promise<Socket> {
    const timeoutMs = this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs;
    return withDeadline({ timeoutMs }, async (track) => {
      const socket = openTransport(url, this.options.tls);
      track(socket);
      this.pending.add(socket);
      try {
        await transportReady(socket, url);
        await upgradeToWebRoute(socket, { url, id: notify.id, timeoutSeconds: notify.timeout > 0 ? notify.timeout : undefined });
        return socket;
      } finally {
        this.pending.delete(socket);
      }
    });
  }

  private startPing(): void {
    const intervalMs = this.options.pingIntervalMs ?? DEFAULTS.pingIntervalMs;
    if (intervalMs <= 0) return;
    this.pongSeen = true;
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws) return;
      if (!this.pongSeen) {
        this.lastError = new RemotedError('timeout', 'The relay did not answer a ping.');
        ws.terminate();
        return;
      }
      this.pongSeen = false;
      ws.ping();
    }, intervalMs);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private redacted(): string {
    return this.url ? redactUrl(this.url) : '';
  }
}

/** A notify message, or undefined for anything else (the original's `"id": false`, junk). */
export function parseNotify(data: RawData): NotifyMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(rawText(data));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { ipaddr, id, timeout } = value as Record<string, unknown>;
  if (typeof id !== 'string' || id === '' || /[\r\n]/.test(id)) return undefined;
  return {
    ipaddr: typeof ipaddr === 'string' ? ipaddr : '',
    id,
    timeout: typeof timeout === 'number' && Number.isFinite(timeout) && timeout > 0 ? timeout : 0,
  };
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Creates a RemotedServer and starts listening on `url` (`rws://key@host[:port]/path` or `rwss://`). */
export function listen(url: string, options?: ListenOptions, onListening?: () => void): RemotedServer {
  return new RemotedServer(options).listen(url, onListening);
}
