/**
 * A dialer that asked for a link and waits for the listener's dial-back. It
 * owns the dialer's socket until it is linked or answered: the socket is
 * paused at once, so only what came with the headers (`head`, bounded) is
 * held here and the kernel holds the rest.
 */
import type { Socket } from 'node:net';
import type { ApiKey } from '../../keys/api-key';
import { replyError, replyTimeout } from '../port/http-reply';
import type { SetupTimes } from '../context/setup-trace';

const EMPTY = Buffer.alloc(0);

export class WaitingDialer {
  private ended = false;
  private onSocketClosed: (() => void) | undefined;
  /** The listener told last: it gets the link's count. */
  private currentListenerId = '';
  /** Only the key that holds the route may dial back. */
  private currentListenerKeyId = '';
  /** Listeners told of this dialer (pools tell another when one is slow). */
  readonly tried = new Set<string>();
  private offerTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly path: string,
    /** The WebRoute id the dialer chose. */
    readonly id: string,
    readonly socket: Socket,
    /** Bytes that came with the headers; a slice that may pin the whole read buffer. */
    private head: Buffer,
    readonly key: ApiKey,
    readonly address: string,
    readonly timeoutSeconds: number,
    /** When the relay answers 504 (epoch ms). */
    readonly deadlineMs: number,
    /** Declared X-Remoted-Features: early-data: safe to send bytes right after its 101. */
    readonly holdsBytesAfter101: boolean,
    /** Its setup stages, when someone traces them (setup-trace.ts). */
    readonly times: SetupTimes | undefined = undefined,
    readonly since: Date = new Date(),
  ) {
    socket.pause();
  }

  get listenerId(): string {
    return this.currentListenerId;
  }

  get listenerKeyId(): string {
    return this.currentListenerKeyId;
  }

  offeredTo(listenerId: string, listenerKeyId: string): void {
    this.currentListenerId = listenerId;
    this.currentListenerKeyId = listenerKeyId;
    this.tried.add(listenerId);
  }

  /** One short timer per dial in a pool (waiting dialers are few and brief, unlike links). */
  armOfferDeadline(ms: number, onDeadline: () => void): void {
    clearTimeout(this.offerTimer);
    this.offerTimer = setTimeout(onDeadline, ms).unref();
  }

  get isEnded(): boolean {
    return this.ended || this.socket.destroyed;
  }

  /** Calls back once if the dialer's socket closes while it waits; forgotten once it is linked. */
  watchClose(onClosed: (dialer: WaitingDialer) => void): void {
    this.onSocketClosed = () => onClosed(this);
    this.socket.once('close', this.onSocketClosed);
  }

  /** Hands the socket and the bytes that came with its headers over to a link, which owns them from now on. */
  release(): Buffer {
    this.ended = true;
    clearTimeout(this.offerTimer);
    // The link has its own close handling; this one would keep the whole waiting dialer alive with the socket.
    if (this.onSocketClosed) this.socket.off('close', this.onSocketClosed);
    this.onSocketClosed = undefined;
    const head = this.head;
    this.head = EMPTY;
    return head;
  }

  answerTimeout(): void {
    if (this.finish()) replyTimeout(this.socket);
  }

  answerListenerGone(): void {
    if (this.finish()) replyError(this.socket, 'missing_destination', 'The listener on this path went away.');
  }

  answerKeySevered(): void {
    if (this.finish()) replyError(this.socket, 'invalid_missing_apikey', 'The key of this dial was revoked or cut off while it waited.');
  }

  /** The listener told of this dial refused it (feature `refuse`); its reason is passed on. */
  answerRefused(reason: string): void {
    const message = reason === '' ? 'The listener could not serve this dial.' : `The listener could not serve this dial: ${reason}`;
    if (this.finish()) replyError(this.socket, 'destination_unreachable', message);
  }

  answerShutdown(): void {
    if (this.finish()) replyError(this.socket, 'over_capacity', 'The relay is shutting down.');
  }

  private finish(): boolean {
    if (this.ended) return false;
    this.ended = true;
    clearTimeout(this.offerTimer);
    return true;
  }
}
