/**
 * The listener: a net.Server look-alike whose connections come through the
 * relay. It holds one WebSocket on its route (PROTOCOL.md 1); for each notify
 * message it dials back (3) and emits the linked socket as 'connection'.
 * From a relay that grants listener features (docs/protocol.md, extension) it
 * also keeps spares, which are linked without a notify, and can drain.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, type ClientOptions, type RawData } from 'ws';
import { backoffDelayMs, DEFAULT_RECONNECT, type ReconnectOptions } from './backoff';
import { dialBack } from './dial-back';
import { setDialerAddress } from './dialer-address';
import type { IncomingDial, ListenOptions } from './listen-options';
import type { DrainEvent, RemotedAddress, RemotedServerEvents } from './listener-events';
import { type ListenerGrant, NO_GRANT, readGrant, requestedFeatures } from '../wire/listener-grant';
import {
  CLOSE_REPLACED,
  CLOSE_ROUTE_CLOSED,
  keyLossOfClose,
  type ListenerOpMessage,
  type NotifyMessage,
  RemotedError,
  WIRE_HEADER_API_KEY,
  WIRE_HEADER_FEATURES,
} from '../wire/protocol';
import { refusalError } from '../dial/relay-refusal';
import { MAX_ERROR_BODY_BYTES } from '../wire/error-body';
import { encodeListenerOp, parseListenerFrame } from '../wire/listener-frames';
import { SpareDemand } from './spare-demand';
import { SparePool } from './spare-pool';
import { parseListenUrl, redactUrl, type RemotedUrl } from '../wire/urls';

export type { ListenOptions } from './listen-options';

/** Notify messages are about 120 bytes; anything near this is not one. */
const MAX_RELAY_MESSAGE_BYTES = 64 * 1024;

/** close() waits this long for the relay's closing handshake, then drops the socket (ws would wait 30 s). */
const CLOSE_GRACE_MS = 1000;

/** After {"op":"drain"}, notify messages the relay sent before it read ours may still come; past this we stop waiting for its answer. */
const DRAIN_ACK_TIMEOUT_MS = 5000;

/** A draining relay answers our spares 502; one it has not answered this long after the drain is dropped. */
const SPARE_ANSWER_GRACE_MS = 2000;

/** More spares than this is a mistake: each is a socket at both ends. */
export const MAX_SPARES = 1024;

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
  /** When the route last dropped after being open (Date.now()); undefined while open or before it ever opened. */
  private droppedAt: number | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private pongSeen = true;
  /** What the relay granted on the current WebSocket. */
  private grant: ListenerGrant = NO_GRANT;
  /** The spares of the current WebSocket's listener id, if any. */
  private spares: SparePool | undefined;
  /** Sockets of dial-backs in progress: destroyed on close(). */
  private readonly pending = new Set<Socket>();
  /** Dial-backs started and not settled (retries included): a drain waits for them. */
  private dialBacksInFlight = 0;
  /** Every connection emitted and not closed yet: a drain waits for them. */
  private readonly connections = new Set<Socket>();
  private draining = false;
  /** True once no notify message can come any more (the relay confirmed the drain, or the WebSocket is gone). */
  private drainSettled = false;
  private drainTimer: NodeJS.Timeout | undefined;
  private drainPromise: Promise<void> | undefined;
  private readonly reconnect: Required<ReconnectOptions> | false;
  /** The `spares` option: a fixed count or 'auto' (follow demand). */
  private readonly wantedSpares: number | 'auto';
  /**
   * With openTarget: false once readying a dial failed, until it succeeds
   * again. Meanwhile we hold no spares: a spare links a dial before we can
   * refuse it, so each would be a link closed at once instead of a 502.
   */
  private targetReady = true;
  /** Recent link rate of the current WebSocket's listener, when spares are 'auto'. */
  private spareDemand: SpareDemand | undefined;

  constructor(private readonly options: ListenOptions = {}) {
    super();
    this.reconnect = options.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...options.reconnect };
    const spares = options.spares ?? 'auto';
    if (spares !== 'auto' && (!Number.isInteger(spares) || spares < 0 || spares > MAX_SPARES)) {
      throw new RangeError(`spares must be 'auto' or a whole number from 0 to ${MAX_SPARES}, got ${String(spares)}.`);
    }
    this.wantedSpares = spares;
  }

  /** Starts listening on an `rws://` or `rwss://` URL; 'listening' once the relay accepted the route. */
  listen(url: string, onListening?: () => void): this {
    if (this.url) throw new Error('This RemotedServer is already listening.');
    this.url = parseListenUrl(url, { key: this.options.key });
    if (onListening) this.once('listening', onListening);
    this.connect();
    return this;
  }

  /** True while the route is open and new links are taken (false once draining). */
  get listening(): boolean {
    return this.open && !this.draining;
  }

  /** Spares opened and not used yet (0 when `spares` is 0 or the relay granted none). */
  get spareCount(): number {
    return this.spares?.size ?? 0;
  }

  /** Connections emitted and not closed yet. */
  get connectionCount(): number {
    return this.connections.size;
  }

  address(): RemotedAddress | null {
    if (!this.open || !this.url) return null;
    return { host: this.url.host, port: this.url.port, path: this.url.path, secure: this.url.secure };
  }

  /**
   * Stops listening: the route is given back, and dial-backs and spares in
   * progress are dropped. Connections already emitted are the application's
   * and stay open.
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
    clearTimeout(this.drainTimer);
    this.stopPing();
    this.stopSpares();
    for (const socket of this.pending) socket.destroy();
    const ws = this.ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      closeGracefully(ws);
    } else {
      process.nextTick(() => this.emitClose());
    }
    return this;
  }

  /**
   * Takes no new links, lets every connection already emitted run until it
   * closes, then close()s; resolves on 'close'. A relay that grants `drain`
   * is told ({"op":"drain"}) and keeps the route open for the dialers it
   * already told us of; to any other relay the route is given back at once.
   * Calling it again returns the same promise.
   */
  drain(): Promise<void> {
    this.drainPromise ??= new Promise<void>((resolve) => {
      if (this.closeEmitted) resolve();
      else this.once('close', () => resolve());
    });
    if (!this.url) this.close();
    else this.startDrain('listener');
    return this.drainPromise;
  }

  private connect(): void {
    const url = this.url;
    if (!url || this.closing || this.draining) return;
    const scheme = url.secure ? 'wss' : 'ws';
    const httpScheme = url.secure ? 'https' : 'http';
    const wsOptions: ClientOptions = {
      ...(this.options.tls as ClientOptions | undefined),
      headers: { [WIRE_HEADER_API_KEY]: url.key, [WIRE_HEADER_FEATURES]: requestedFeatures(this.wantedSpares, this.options.openTarget !== undefined) },
      origin: this.options.origin ?? `${httpScheme}://${url.hostHeader}`,
      perMessageDeflate: false,
      maxPayload: MAX_RELAY_MESSAGE_BYTES,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    };
    this.lastError = undefined;
    this.grant = NO_GRANT;
    const ws = new WebSocket(`${scheme}://${url.hostHeader}${url.path}`, wsOptions);
    this.ws = ws;
    // The 101's headers say what the relay grants; 'upgrade' comes before 'open'.
    ws.on('upgrade', (res: IncomingMessage) => {
      this.grant = readGrant(res.headers);
    });
    ws.on('open', () => this.onOpen());
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onMessage(ws, data);
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
    this.droppedAt = undefined;
    this.startPing();
    const spares = this.startSpares();
    this.emit('route:open', { url: this.redacted(), reconnected, listenerId: this.grant.listenerId, spares });
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
      if (size <= MAX_ERROR_BODY_BYTES) chunks.push(chunk);
    });
    res.once('end', finish);
    res.once('error', finish);
  }

  private onWsClose(ws: WebSocket, code: number, reason: string): void {
    if (this.ws !== ws) return;
    this.ws = undefined;
    this.stopPing();
    // The relay ends a listener's spares with it; ours would only be refused from now on.
    this.stopSpares();
    const wasOpen = this.open;
    this.open = false;
    if (this.closing) return this.emitClose();
    if (this.draining) return this.settleDrain();
    if (wasOpen) {
      this.droppedAt = Date.now();
      this.emit('route:lost', { url: this.redacted(), code, reason });
    }
    if (code === CLOSE_REPLACED) {
      // Takeover: a new listener with our key holds the path. Coming back would take it from that one, forever.
      return this.fail(new RemotedError('replaced', `A new listener with the same key took the path over (${code} ${reason}).`));
    }
    if (code === CLOSE_ROUTE_CLOSED) {
      // The operator asked us to stay away (a kick, 1008, is retried below).
      return this.fail(new RemotedError('route_closed', `The relay's operator closed the route for good: ${reason || 'no reason given'} (${code}).`));
    }
    const keyLoss = keyLossOfClose(code);
    // The relay would refuse this key on this path from now on: retrying only hammers it.
    if (keyLoss) return this.fail(new RemotedError(keyLoss, `The relay closed the listener: ${reason || keyLoss} (${code}).`));
    const error = this.lastError;
    if (error instanceof RemotedError && FATAL_CODES.has(error.code) && !(error.code === 'path_in_use' && this.everOpened)) {
      return this.fail(error);
    }
    this.scheduleReconnect(error ?? new RemotedError('protocol_error', `The relay closed the listener's WebSocket (${code}).`));
  }

  private scheduleReconnect(error: Error): void {
    if (!this.reconnect || this.attempt >= this.reconnect.maxAttempts) return this.fail(error);
    this.attempt += 1;
    const msSinceDrop = this.droppedAt === undefined ? undefined : Date.now() - this.droppedAt;
    const delayMs = backoffDelayMs(this.attempt, this.reconnect, Math.random, msSinceDrop);
    this.emit('route:retry', { attempt: this.attempt, delayMs, error });
    this.retryTimer = setTimeout(() => this.connect(), delayMs);
  }

  private fail(error: Error): void {
    this.closing = true;
    this.stopSpares();
    // An 'error' with no listener would throw, as for net.Server.
    this.emit('error', error);
    this.emitClose();
  }

  private emitClose(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    this.emit('close');
  }

  private onMessage(ws: WebSocket, data: RawData): void {
    const message = parseListenerFrame(data);
    if (message.kind === 'notify') void this.acceptNotify(ws, message.notify);
    else if (message.kind === 'op') this.onOp(message.op);
  }

  private onOp(op: ListenerOpMessage): void {
    if (op.op !== 'draining') return; // {"op":"drain"} is ours to send, not the relay's
    if (op.by === 'operator' && !this.draining) this.startDrain('operator');
    else this.settleDrain();
  }

  /** `ws`: the WebSocket that told us; only it may refuse the dial. */
  private async acceptNotify(ws: WebSocket, notify: NotifyMessage): Promise<void> {
    const url = this.url;
    if (!url) return;
    const attempts = Math.max(1, this.options.dialBackAttempts ?? DEFAULTS.dialBackAttempts);
    const dial: IncomingDial = { id: notify.id, dialerAddress: notify.ipaddr };
    this.dialBacksInFlight += 1;
    let target: Duplex | undefined;
    try {
      // Readied first, so that a dial we cannot serve is refused instead of linked and cut.
      const readied = await this.openTarget(dial);
      target = readied.target;
      if (this.closing) return;
      if (readied.failed && this.refuse(ws, dial, readied.failed)) return;
      const socket = await dialBack(notify, {
        url,
        tls: this.options.tls,
        attempts,
        retryDelayMs: this.options.dialBackRetryDelayMs ?? DEFAULTS.dialBackRetryDelayMs,
        handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
        inProgress: this.pending,
        stopped: () => this.closing,
      });
      if (socket && readied.failed) {
        // A relay we cannot tell: the dialer sees its link end now rather than wait for the relay's timeout.
        socket.destroy();
        this.emit('dial:refused', { ...dial, error: readied.failed, told: false });
      } else if (socket) {
        this.accept(socket, notify.ipaddr, target);
        target = undefined;
      }
    } catch (err) {
      if (!this.closing) this.emit('dialback:error', { id: notify.id, dialerAddress: notify.ipaddr, attempts, error: err as Error });
    } finally {
      target?.destroy();
      this.dialBacksInFlight -= 1;
      this.checkDrained();
    }
  }

  /** options.openTarget's result for a dial, or its failure; nothing to ready without it. */
  private async openTarget(dial: IncomingDial): Promise<{ target?: Duplex; failed?: Error }> {
    const open = this.options.openTarget;
    if (!open) return {};
    try {
      const target = await open(dial);
      this.noteTarget(true);
      return { target };
    } catch (err) {
      this.noteTarget(false);
      return { failed: err instanceof Error ? err : new Error(String(err)) };
    }
  }

  /** Spares follow the target: dropped when it cannot be readied, opened again once it can. */
  private noteTarget(ready: boolean): void {
    if (ready === this.targetReady) return;
    this.targetReady = ready;
    if (!ready) this.stopSpares();
    else if (this.open && !this.draining && !this.closing && !this.spares) this.startSpares();
  }

  /**
   * Tells the relay we cannot serve the dial ({"op":"refuse"}) on the WebSocket that told us of it;
   * false when it cannot be told (a relay without `refuse`, or that WebSocket is gone: the relay moved the dial already).
   */
  private refuse(ws: WebSocket, dial: IncomingDial, error: Error): boolean {
    if (ws !== this.ws || !this.grant.refuse || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(encodeListenerOp({ op: 'refuse', id: dial.id, reason: error.message }));
    this.emit('dial:refused', { ...dial, error, told: true });
    return true;
  }

  /** A dial linked to a spare: readied after the fact, and closed if that fails (the dialer has its 101 already). */
  private async acceptSpare(socket: Socket, dial: IncomingDial): Promise<void> {
    this.dialBacksInFlight += 1;
    try {
      const readied = await this.openTarget(dial);
      if (readied.failed) {
        socket.destroy();
        this.emit('dial:refused', { ...dial, error: readied.failed, told: false });
      } else {
        this.accept(socket, dial.dialerAddress, readied.target);
      }
    } finally {
      this.dialBacksInFlight -= 1;
      this.checkDrained();
    }
  }

  /** A linked socket (dial-back or spare) becomes a 'connection', tracked until it closes. */
  private accept(socket: Socket, dialerAddress: string, target: Duplex | undefined): void {
    setDialerAddress(socket, dialerAddress);
    if (this.closing) {
      socket.destroy();
      target?.destroy();
      return;
    }
    this.connections.add(socket);
    if (this.spareDemand) {
      this.spareDemand.recordLink();
      this.spares?.topUp();
    }
    socket.once('close', () => {
      this.connections.delete(socket);
      this.checkDrained();
    });
    this.emit('connection', socket, target);
  }

  /** Opens the spares the relay granted on this WebSocket; returns how many are kept. */
  private startSpares(): number {
    const url = this.url;
    const { listenerId, spares: granted } = this.grant;
    const wanted = this.wantedSpares;
    let target: () => number;
    if (wanted === 'auto') {
      const demand = new SpareDemand(granted);
      this.spareDemand = demand;
      target = () => demand.target();
    } else {
      this.spareDemand = undefined;
      const fixed = Math.min(wanted, granted);
      target = () => fixed;
    }
    if (!url || listenerId === undefined || target() === 0 || this.draining || !this.targetReady) return 0;
    this.spares = new SparePool({
      url,
      tls: this.options.tls,
      listenerId,
      target,
      onLink: (socket, dialerAddress, dialerId) => {
        if (this.options.openTarget) void this.acceptSpare(socket, { id: dialerId, dialerAddress });
        else this.accept(socket, dialerAddress, undefined);
      },
      onEmpty: () => this.checkDrained(),
    });
    this.spares.start();
    return target();
  }

  private stopSpares(): void {
    this.spares?.stop();
    this.spares = undefined;
  }

  private startDrain(by: DrainEvent['by']): void {
    if (this.draining || this.closing) return;
    this.draining = true;
    clearTimeout(this.retryTimer);
    this.emit('drain', { by });
    const ws = this.ws;
    if (by === 'operator') {
      // The relay already stopped notifying us and answers our spares.
      this.spares?.retire();
      this.settleDrain();
    } else if (ws && ws.readyState === WebSocket.OPEN && this.grant.drain) {
      ws.send(encodeListenerOp({ op: 'drain' }));
      this.spares?.retire();
      this.drainTimer = setTimeout(() => this.settleDrain(), DRAIN_ACK_TIMEOUT_MS);
    } else if (ws) {
      // A relay without drain: give the route back, so that its dialers are not left waiting on us.
      this.stopSpares();
      closeGracefully(ws);
    } else {
      this.settleDrain();
    }
  }

  /** No notify message can come any more; spares the relay has not answered soon are dropped. */
  private settleDrain(): void {
    if (!this.draining || this.drainSettled) return;
    this.drainSettled = true;
    clearTimeout(this.drainTimer);
    if (this.spares) {
      this.drainTimer = setTimeout(() => {
        this.stopSpares();
        this.checkDrained();
      }, SPARE_ANSWER_GRACE_MS);
    }
    this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.draining || !this.drainSettled || this.closing) return;
    if (this.connections.size > 0 || this.dialBacksInFlight > 0 || this.spareCount > 0) return;
    this.close();
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

/** A WebSocket close that does not wait more than CLOSE_GRACE_MS for the relay's answer. */
function closeGracefully(ws: WebSocket): void {
  if (ws.readyState === WebSocket.OPEN) {
    ws.close(1000);
    setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
  } else if (ws.readyState !== WebSocket.CLOSED) {
    ws.terminate();
  }
}

/** Creates a RemotedServer and starts listening on `url` (`rws://key@host[:port]/path` or `rwss://`). */
export function listen(url: string, options?: ListenOptions, onListening?: () => void): RemotedServer {
  return new RemotedServer(options).listen(url, onListening);
}
