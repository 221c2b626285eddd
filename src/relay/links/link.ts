/**
 * Two sockets spliced after both 101s. Node's pipe() gives backpressure both
 * ways and passes a FIN on as a FIN (half-close); nothing of ours runs per
 * chunk. An error on either side destroys both. Byte counts are read from the
 * sockets' own counters when asked.
 *
 * With a splice pool (src/relay/links/offload/), a busy link of plain TCP sockets
 * moves to a lean worker process: the Link stays here, with the same
 * methods, and learns the worker's counts and its close by message.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { LinkCloseReason, LinkSnapshot } from '../context/relay-events';
import { leavesPeerAlone } from './half-close';

export interface LinkSide {
  socket: Socket;
  /** Its 101, written by `start` together with the bytes already held for it. */
  answer: string;
  /** Bytes the side sent with its request headers: delivered first. */
  head: Buffer;
  /**
   * Longest ms after its 101 before bytes are relayed to this side (a peer
   * that drops bytes in the read of its 101, legacy-peer.ts); its own first
   * byte ends the wait, since it has read its 101 then.
   */
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
  /** Where a busy link may move (none: it stays in this process). */
  splice?: SpliceHost;
}

/** What a Link needs of the splice pool (SplicePool). */
export interface SpliceHost {
  /** Starts watching a link that could move; the host calls `prepareMove` once it is busy. */
  watch(link: Link): void;
  /** The link closed or can no longer move. */
  unwatch(link: Link): void;
  /** Closes a link that moved, in its worker. */
  destroyMoved(link: Link): void;
}

/** A link's sockets on their way to a worker, with what was read from each and not written yet. */
export interface LinkMove {
  dialer: Socket;
  listener: Socket;
  /** Bytes for the dialer before anything else (read from the listener). */
  firstToDialer: Buffer;
  firstToListener: Buffer;
}

/** Counts of the part of a link that a worker relays. */
export interface MovedCounts {
  toDialer: number;
  toListener: number;
  read: number;
}

const EMPTY = Buffer.alloc(0);

/** Bytes between two sweeps that make a link worth watching for a move again. */
const BUSY_SINCE_SWEEP_BYTES = 256 * 1024;

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

/** The libuv stream under a plain TCP socket; Node's own (not public) API, used only to stop reading before a move. */
interface TcpHandle {
  readStop(): number;
  reading?: boolean;
}

function tcpHandleOf(socket: Socket): TcpHandle | undefined {
  const handle = (socket as unknown as { _handle?: TcpHandle & object | null })._handle;
  return handle && handle.constructor.name === 'TCP' && typeof handle.readStop === 'function' ? handle : undefined;
}

/** Only a plain TCP socket can move to another process: not TLS, not a stream made in JS. */
function canMoveSocket(socket: Socket): boolean {
  return !(socket instanceof TLSSocket) && tcpHandleOf(socket) !== undefined;
}

/** A FIN came in (maybe not read yet) or the socket ended its side: no longer a plain two-way link. */
function halfClosed(socket: Socket): boolean {
  const state = (socket as unknown as { _readableState?: { ended?: boolean } })._readableState;
  return state?.ended === true || socket.writableEnded || socket.destroyed;
}

/** Takes what the socket read and was not relayed yet, then stops its reading. Nothing may run in between. */
function stopReading(socket: Socket): Buffer {
  const buffered = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
  const handle = tcpHandleOf(socket)!;
  handle.readStop();
  // Marked as reading, so the stream does not start it again before the socket moves.
  handle.reading = true;
  return buffered ?? EMPTY;
}

type LinkState = 'local' | 'pausing' | 'moved';

export class Link {
  readonly id: string;
  readonly since: Date;
  readonly idleTimeoutMs: number;
  private readonly dialer: Socket;
  private readonly listener: Socket;
  /** bytesWritten of each socket when linked, plus its 101: the 101 is not payload. */
  private dialerWrittenBase: number;
  private listenerWrittenBase: number;
  private lastActivityTotal = -1;
  private lastActivityAt: number;
  private closeReason: LinkCloseReason | undefined;
  private closedSides = 0;
  private readonly delayTimers: NodeJS.Timeout[] = [];
  /** Directions relaying (each starts after its side's receive delay). */
  private piping = 0;
  private state: LinkState = 'local';
  /** Both sockets are plain TCP and there is a splice pool. */
  private movable = false;
  /** Once moved: counts here at the move, and the worker's latest. */
  private readonly atMove: MovedCounts = { toDialer: 0, toListener: 0, read: 0 };
  private readonly inWorker: MovedCounts = { toDialer: 0, toListener: 0, read: 0 };
  private closeReported = false;

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

  /**
   * Writes both 101s and starts relaying: pre-link bytes first, then the
   * sockets themselves. A side relayed to at once gets its 101 and the bytes
   * already held for it in one write (one segment, one syscall).
   */
  start(): void {
    const { dialer, listener } = this;
    this.dialerWrittenBase = dialer.bytesWritten + Buffer.byteLength(this.init.dialer.answer, 'latin1');
    this.listenerWrittenBase = listener.bytesWritten + Buffer.byteLength(this.init.listener.answer, 'latin1');
    const toDialer = this.answer(this.init.dialer, this.init.listener);
    const toListener = this.answer(this.init.listener, this.init.dialer);
    for (const socket of [dialer, listener]) {
      socket.setNoDelay(true);
      (socket as LinkedSocket)[kLink] = this;
      socket.on('error', onLinkedSocketError);
      socket.on('close', onLinkedSocketClose);
    }
    const startToListener = this.relay(dialer, listener, this.init.listener.receiveDelayMs);
    const startToDialer = this.relay(listener, dialer, this.init.dialer.receiveDelayMs);
    // A held side that speaks has read its 101: what waits for it goes now. Only
    // watched while its own bytes flow (a 'data' listener on a paused socket would start it).
    if (toListener && !toDialer) listener.once('data', startToListener);
    if (toDialer && !toListener) dialer.once('data', startToDialer);
    this.movable = this.init.splice !== undefined && canMoveSocket(dialer) && canMoveSocket(listener);
    if (this.movable) this.init.splice?.watch(this);
  }

  /**
   * Writes `to`'s 101. The bytes `from` sent with its headers go in the same
   * write, or, for a held side, back into `from` to follow once relaying
   * starts. Returns whether `to` is held.
   */
  private answer(to: LinkSide, from: LinkSide): boolean {
    const held = to.receiveDelayMs > 0;
    if (held || from.head.length === 0) {
      to.socket.write(to.answer, 'latin1');
      if (from.head.length > 0) from.socket.unshift(from.head);
    } else {
      to.socket.write(Buffer.concat([Buffer.from(to.answer, 'latin1'), from.head]));
    }
    // A head is a slice of the read buffer it came in; keeping it would pin that buffer for the link's life.
    from.head = EMPTY;
    return held;
  }

  /** Pipes `from` into `to`, after `delayMs` if `to` is held; returns what starts it early (idempotent). */
  private relay(from: Socket, to: Socket, delayMs: number): () => void {
    let started = false;
    let timer: NodeJS.Timeout | undefined;
    const startNow = (): void => {
      if (started) return;
      started = true;
      clearTimeout(timer);
      if (to.destroyed) return;
      if (from.destroyed) {
        // `from` closed before its direction started. After a clean FIN (nothing
        // left unread) `to` gets that FIN now: nobody else would send it, and a
        // `to` that already ended its own side would stay half-open for ever.
        if (from.readableEnded) to.end();
        else to.destroy();
        return;
      }
      from.pipe(to);
      this.piping++;
    };
    if (delayMs <= 0) {
      startNow();
      return startNow;
    }
    timer = setTimeout(startNow, delayMs).unref();
    this.delayTimers.push(timer);
    return startNow;
  }

  get bytesToListener(): number {
    if (this.state === 'moved') return this.atMove.toListener + this.inWorker.toListener;
    return this.listener.bytesWritten - this.listenerWrittenBase;
  }

  get bytesToDialer(): number {
    if (this.state === 'moved') return this.atMove.toDialer + this.inWorker.toDialer;
    return this.dialer.bytesWritten - this.dialerWrittenBase;
  }

  /** Bytes read from both sides so far: what the idle check and the splice pool watch. */
  get bytesRead(): number {
    if (this.state === 'moved') return this.atMove.read + this.inWorker.read;
    return this.dialer.bytesRead + this.listener.bytesRead;
  }

  get isClosed(): boolean {
    return this.state === 'moved' ? this.closeReported : this.closedSides === 2;
  }

  /** Whether the link relays in a splice worker. */
  get isMoved(): boolean {
    return this.state === 'moved';
  }

  /** Ms since a byte last moved either way, as seen by the last `checkIdle`. */
  idleMs(now: number): number {
    return now - this.lastActivityAt;
  }

  /** Called by the sweeper: closes the link once nothing moved for its idle timeout. */
  checkIdle(now: number): void {
    const total = this.bytesRead;
    if (total !== this.lastActivityTotal) {
      // Busy again (or still): the splice pool watches it closely for a while.
      if (this.movable && this.state === 'local' && total - this.lastActivityTotal >= BUSY_SINCE_SWEEP_BYTES) this.init.splice?.watch(this);
      this.lastActivityTotal = total;
      this.lastActivityAt = now;
    } else if (now - this.lastActivityAt >= this.idleTimeoutMs) {
      this.destroy('idle_timeout');
    }
  }

  /** destroy() was called: its sockets are on their way down, and it leaves the link table when they are closed. */
  get isDestroyed(): boolean {
    return this.closeReason !== undefined;
  }

  /** Closes both sides at once. Idempotent; the first reason is kept. */
  destroy(reason: LinkCloseReason): void {
    this.closeReason ??= reason;
    for (const timer of this.delayTimers) clearTimeout(timer);
    // Moved: the worker closes its sockets; this process's copies go when it reports (they may still be on their way).
    if (this.state === 'moved') return this.init.splice?.destroyMoved(this);
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

  /** A side closed: the other goes too unless the two exchanged FINs (half-close.ts). */
  sideClosed(closed: Socket): void {
    const other = closed === this.dialer ? this.listener : this.dialer;
    if (leavesPeerAlone(closed, other)) other.destroy();
    if (++this.closedSides === 2) {
      this.init.splice?.unwatch(this);
      this.onClosed(this, this.closeReason ?? 'closed');
    }
  }

  /** Both directions relay and neither has seen a FIN: the sockets could move now. */
  get canMove(): boolean {
    return this.movable && this.state === 'local' && this.piping === 2 && this.closeReason === undefined && !halfClosed(this.dialer) && !halfClosed(this.listener);
  }

  /**
   * First step of a move: stops relaying here and calls `ready` once every
   * byte this process took on for either side has been written (at once if
   * none is pending, as is usual). Bytes read meanwhile wait in the sockets
   * (and the kernel) for `takeSockets`. A peer may not read until its own
   * writes go through, which they do not while paused: the caller gives up
   * with `stayHere` if `ready` is slow to come.
   */
  prepareMove(ready: () => void): void {
    if (!this.canMove) return;
    this.state = 'pausing';
    const { dialer, listener } = this;
    for (const socket of [dialer, listener]) {
      socket.unpipe();
      socket.pause();
    }
    let waiting = 2;
    const flushed = (): void => {
      if (--waiting === 0) ready();
    };
    // A write's callback runs once every write before it is done: an empty one marks the end of what pipe() wrote.
    for (const socket of [dialer, listener]) {
      if (socket.writableLength === 0) flushed();
      else socket.write(EMPTY, flushed);
    }
  }

  /**
   * Second step: if the link is still whole, hands its sockets over (reading
   * stopped, what they read taken out) and from now on counts and closes
   * through the splice host; otherwise relays here again and returns
   * undefined. Runs in one go: the caller sends the sockets before
   * anything else runs.
   */
  takeSockets(): LinkMove | undefined {
    const { dialer, listener } = this;
    if (this.state !== 'pausing') return undefined;
    if (this.closeReason !== undefined || halfClosed(dialer) || halfClosed(listener) || dialer.writableLength + listener.writableLength > 0) {
      // Closing or half-closed meanwhile: it stays, as it was.
      this.stayHere();
      return undefined;
    }
    this.atMove.toDialer = this.bytesToDialer;
    this.atMove.toListener = this.bytesToListener;
    this.atMove.read = this.bytesRead;
    const firstToListener = stopReading(dialer);
    const firstToDialer = stopReading(listener);
    // Their close is the worker's to report now; an error still destroys the link (in the worker).
    dialer.off('close', onLinkedSocketClose);
    listener.off('close', onLinkedSocketClose);
    this.state = 'moved';
    return { dialer, listener, firstToDialer, firstToListener };
  }

  /** Gives up a move begun with `prepareMove`: relays here again, for good. */
  stayHere(): void {
    if (this.state !== 'pausing') return;
    this.state = 'local';
    const { dialer, listener } = this;
    if (!dialer.destroyed && !listener.destroyed) {
      dialer.pipe(listener);
      listener.pipe(dialer);
    }
  }

  /**
   * The worker has both sockets: this process lets go of its copies (closing
   * a descriptor the worker also holds ends nothing) and of its handlers.
   */
  releaseSockets(): void {
    for (const socket of [this.dialer, this.listener]) {
      socket.off('error', onLinkedSocketError);
      delete (socket as LinkedSocket)[kLink];
      socket.destroy();
    }
  }

  /** The worker's latest counts of this link. */
  updateMovedCounts(counts: MovedCounts): void {
    this.inWorker.toDialer = counts.toDialer;
    this.inWorker.toListener = counts.toListener;
    this.inWorker.read = counts.read;
  }

  /** Both sides closed in the worker (or the worker is gone: `error`). */
  movedClosed(counts: MovedCounts | undefined, error: boolean): void {
    if (this.closeReported) return;
    this.closeReported = true;
    if (counts) this.updateMovedCounts(counts);
    if (error) this.closeReason ??= 'error';
    this.releaseSockets();
    this.onClosed(this, this.closeReason ?? 'closed');
  }
}
