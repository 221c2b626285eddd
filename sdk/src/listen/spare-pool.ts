/**
 * A listener's warm dial-back pool (docs/protocol.md, spares): WebRoute
 * requests opened before any dialer exists, which the relay holds unanswered
 * and links to the next dial at once, without a notify message and a
 * dial-back round trip. The pool keeps `target` of them in flight and opens a
 * replacement for each one used or expired. It owns every socket it opened
 * until the relay links it: then the socket goes to `onLink`.
 */
import type { Socket } from 'node:net';
import { backoffDelayMs, DEFAULT_RECONNECT, type ReconnectOptions } from './backoff';
import { HEADER_DIALER_ADDRESS, HEADER_DIALER_ID, randomToken, RemotedError } from '../wire/protocol';
import type { RemotedUrl } from '../wire/urls';
import { openWebRoute, type RelayTlsOptions } from '../dial/webroute-client';

export interface SparePoolOptions {
  url: RemotedUrl;
  tls: RelayTlsOptions | undefined;
  /** The listener the spares belong to (X-Remoted-Spare). */
  listenerId: string;
  /**
   * Spares to keep in flight now: the listener's wish capped by the relay's
   * grant, fixed or following demand (spare-demand.ts). Read at every refill;
   * above it, used and expired spares are simply not replaced.
   */
  target(): number;
  /** A dialer was linked to a spare: the socket is past its 101, bytes after it come first. */
  onLink(socket: Socket, dialerAddress: string, dialerId: string): void;
  /** The last spare of a retired pool is gone. */
  onEmpty?(): void;
}

/**
 * A replacement for a used spare waits this long (one timer for all of them):
 * opened at the very moment its link starts, it would make the relay parse
 * and authenticate it while the link's first bytes wait (measured on
 * loopback: the first byte took about twice as long).
 */
const REPLACE_DELAY_MS = 5;

/** Replacements after failures: quick at first, then at most one round per 10 s. */
const SPARE_BACKOFF: Required<ReconnectOptions> = { ...DEFAULT_RECONNECT, initialDelayMs: 200, maxDelayMs: 10_000, recoveryWindowMs: 0 };

/**
 * Statuses after which this listener id gets no more spares: 502 (gone or
 * draining), 400 (not a live listener of this path and key), 403 (key refused).
 */
const FINAL_STATUSES = new Set([400, 403, 502]);

type PoolState = 'filling' | 'retiring' | 'stopped';

export class SparePool {
  private readonly sockets = new Set<Socket>();
  private state: PoolState = 'filling';
  /** Failed rounds in a row; a spare the relay answered (101 or 504) resets it. */
  private failures = 0;
  private refillTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SparePoolOptions) {}

  /** Spares opened and not answered yet. */
  get size(): number {
    return this.sockets.size;
  }

  start(): void {
    this.fill();
  }

  /**
   * Opens no more spares; those in flight stay until the relay answers them,
   * so that a dial linked to one in the meantime still reaches us (a drain).
   */
  retire(): void {
    if (this.state !== 'filling') return;
    this.state = 'retiring';
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    if (this.sockets.size === 0) this.options.onEmpty?.();
  }

  /** Destroys every spare in flight and opens no more. Idempotent. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    for (const socket of this.sockets) socket.destroy();
    // Gone from now on, so that size is 0 at once (their failures come later and find nothing).
    this.sockets.clear();
  }

  private fill(): void {
    if (this.state !== 'filling' || this.refillTimer) return;
    const target = this.options.target();
    while (this.sockets.size < target) this.open();
  }

  /** Demand may have grown (a dial took the notify path): fill up soon, in one round with any other. */
  topUp(): void {
    if (this.sockets.size < this.options.target()) this.scheduleFill(REPLACE_DELAY_MS);
  }

  private open(): void {
    const { url, tls, listenerId } = this.options;
    let socket: Socket | undefined;
    const onSocket = (opened: Socket): void => {
      socket = opened;
      this.sockets.add(opened);
    };
    // No deadline: the relay holds a spare until a dial uses it or it expires (504).
    openWebRoute({ url, id: randomToken(), spareOf: listenerId }, { tls, onSocket }).then(
      ({ socket: held, answer }) => this.onAnswered(held, answer.headers.get(HEADER_DIALER_ADDRESS) ?? '', answer.headers.get(HEADER_DIALER_ID) ?? ''),
      (err: unknown) => this.onFailed(socket, err),
    );
  }

  private onAnswered(socket: Socket, dialerAddress: string, dialerId: string): void {
    this.sockets.delete(socket);
    this.failures = 0;
    // A dialer is on the other end: hand the link over even if the pool stopped meanwhile; the owner decides.
    if (!socket.destroyed) this.options.onLink(socket, dialerAddress, dialerId);
    // None left: the next dial would take the notify path, so no waiting then.
    if (this.sockets.size === 0) this.fill();
    else this.scheduleFill(REPLACE_DELAY_MS);
    this.emptied();
  }

  /** `socket`: none when the transport could not even be started (bad TLS options). */
  private onFailed(socket: Socket | undefined, err: unknown): void {
    if (socket) {
      this.sockets.delete(socket);
      socket.destroy();
    }
    if (this.state === 'filling') {
      const status = err instanceof RemotedError ? err.status : undefined;
      if (status === 504) {
        // Expired unused: the relay's spare max age. Replace it at once.
        this.failures = 0;
        this.fill();
      } else if (status !== undefined && FINAL_STATUSES.has(status)) {
        // Wait for the next WebSocket open: it brings a new listener id.
        this.stop();
      } else {
        // 503 over capacity, 429, a network error, or closed without an answer.
        this.backOff();
      }
    }
    this.emptied();
  }

  /** One step of backoff per round of failures, however many spares failed in it. */
  private backOff(): void {
    if (this.refillTimer) return;
    this.failures += 1;
    this.scheduleFill(backoffDelayMs(this.failures, SPARE_BACKOFF));
  }

  /** One timer fills every missing spare; a timer already set (a backoff) wins. */
  private scheduleFill(delayMs: number): void {
    if (this.state !== 'filling' || this.refillTimer) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = undefined;
      this.fill();
    }, delayMs);
    this.refillTimer.unref();
  }

  private emptied(): void {
    if (this.state === 'retiring' && this.sockets.size === 0) this.options.onEmpty?.();
  }
}
