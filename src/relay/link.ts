/**
 * Two sockets spliced after both 101s. Node's pipe() gives backpressure both
 * ways and passes a FIN on as a FIN (half-close); nothing of ours runs per
 * chunk. An error on either side destroys both. Byte counts are read from the
 * sockets' own counters when asked.
 */
import type { Socket } from 'node:net';
import type { LinkCloseReason, LinkSnapshot } from './relay-events';

export interface LinkSide {
  socket: Socket;
  /** Bytes the side sent with its request headers: delivered first. */
  head: Buffer;
  /** Ms after its 101 before bytes are relayed to this side (peers that drop early bytes). */
  receiveDelayMs: number;
}

export interface LinkInit {
  id: string;
  path: string;
  listenerId: string;
  dialerKeyId: string;
  listenerKeyId: string;
  dialerAddress: string;
  dialer: LinkSide;
  listener: LinkSide;
  idleTimeoutMs: number;
  now: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * The link a socket belongs to. Its handlers are shared functions that find
 * the link through this, rather than closures per socket (as ws does):
 * links are long-lived and many.
 */
const kLink = Symbol('remoted:link');
type LinkedSocket = Socket & { [kLink]?: Link };

function onLinkedSocketError(this: LinkedSocket): void {
  this[kLink]?.destroy('error');
}

function onLinkedSocketClose(this: LinkedSocket): void {
  this[kLink]?.sideClosed(this);
}

export class Link {
  readonly id: string;
  readonly since: Date;
  readonly idleTimeoutMs: number;
  private readonly dialer: Socket;
  private readonly listener: Socket;
  /** bytesWritten of each socket when linked: the 101 is not payload. */
  private readonly dialerWrittenBase: number;
  private readonly listenerWrittenBase: number;
  private lastActivityTotal = -1;
  private lastActivityAt: number;
  private closeReason: LinkCloseReason | undefined;
  private closedSides = 0;
  private readonly delayTimers: NodeJS.Timeout[] = [];

  constructor(
    private readonly init: LinkInit,
    private readonly onClosed: (link: Link, reason: LinkCloseReason) => void,
  ) {
    this.id = init.id;
    this.since = new Date(init.now);
    this.idleTimeoutMs = init.idleTimeoutMs;
    this.lastActivityAt = init.now;
    this.dialer = init.dialer.socket;
    this.listener = init.listener.socket;
    this.dialerWrittenBase = this.dialer.bytesWritten;
    this.listenerWrittenBase = this.listener.bytesWritten;
  }

  /** Starts relaying: pre-link bytes first, then the sockets themselves. */
  start(): void {
    const { dialer, listener } = this;
    for (const side of [this.init.dialer, this.init.listener]) {
      side.socket.setNoDelay(true);
      if (side.head.length > 0) side.socket.unshift(side.head);
      // A head is a slice of the read buffer it came in; keeping it would pin that buffer for the link's life.
      side.head = EMPTY;
    }
    for (const socket of [dialer, listener]) {
      (socket as LinkedSocket)[kLink] = this;
      socket.on('error', onLinkedSocketError);
      socket.on('close', onLinkedSocketClose);
    }
    this.relay(dialer, listener, this.init.listener.receiveDelayMs);
    this.relay(listener, dialer, this.init.dialer.receiveDelayMs);
  }

  private relay(from: Socket, to: Socket, delayMs: number): void {
    if (delayMs <= 0) {
      from.pipe(to);
      return;
    }
    const timer = setTimeout(() => {
      if (!from.destroyed && !to.destroyed) from.pipe(to);
    }, delayMs);
    this.delayTimers.push(timer.unref());
  }

  get bytesToListener(): number {
    return this.listener.bytesWritten - this.listenerWrittenBase;
  }

  get bytesToDialer(): number {
    return this.dialer.bytesWritten - this.dialerWrittenBase;
  }

  get isClosed(): boolean {
    return this.closedSides === 2;
  }

  /** Ms since a byte last moved either way, as seen by the last `checkIdle`. */
  idleMs(now: number): number {
    return now - this.lastActivityAt;
  }

  /** Called by the sweeper: closes the link once nothing moved for its idle timeout. */
  checkIdle(now: number): void {
    const total = this.dialer.bytesRead + this.listener.bytesRead;
    if (total !== this.lastActivityTotal) {
      this.lastActivityTotal = total;
      this.lastActivityAt = now;
    } else if (now - this.lastActivityAt >= this.idleTimeoutMs) {
      this.destroy('idle_timeout');
    }
  }

  /** Closes both sides at once. Idempotent; the first reason is kept. */
  destroy(reason: LinkCloseReason): void {
    this.closeReason ??= reason;
    for (const timer of this.delayTimers) clearTimeout(timer);
    this.dialer.destroy();
    this.listener.destroy();
  }

  snapshot(): LinkSnapshot {
    const { init } = this;
    return {
      linkId: init.id,
      path: init.path,
      listenerId: init.listenerId,
      dialerKeyId: init.dialerKeyId,
      listenerKeyId: init.listenerKeyId,
      dialerAddress: init.dialerAddress,
      since: this.since,
      bytesToListener: this.bytesToListener,
      bytesToDialer: this.bytesToDialer,
    };
  }

  /**
   * A side that closed before it sent its FIN, or while the other side still
   * had bytes for it, leaves the other side with no peer: destroy it.
   * After a clean exchange of FINs both close on their own.
   */
  sideClosed(closed: Socket): void {
    const other = closed === this.dialer ? this.listener : this.dialer;
    if (!closed.readableEnded || !other.readableEnded) other.destroy();
    if (++this.closedSides === 2) this.onClosed(this, this.closeReason ?? 'closed');
  }
}
