/**
 * A spare: a listener's dial-back opened before any dialer exists, held
 * unanswered until a dial takes it (docs/protocol.md, spares). Until then it
 * must stay silent, so it is read: a byte or a FIN from it ends it at once,
 * which a paused socket would not notice.
 */
import type { Socket } from 'node:net';
import { replyError, replyTimeout } from '../port/http-reply';

export class SpareDialback {
  private ended = false;
  private onGone: ((spare: SpareDialback) => void) | undefined;

  constructor(
    /** The spare's own WebRoute-ID. */
    readonly id: string,
    readonly path: string,
    readonly listenerId: string,
    readonly keyId: string,
    readonly socket: Socket,
    /** Its effective timeout (seconds): the relay's default or its WebRoute-Timeout. */
    readonly timeoutSeconds: number,
    readonly sinceMs: number,
  ) {}

  /** Calls back once when the spare ends by itself (bytes, FIN, close) before it is taken or answered. */
  watch(onGone: (spare: SpareDialback) => void): void {
    this.onGone = onGone;
    this.socket.on('data', this.onUnexpected);
    this.socket.on('end', this.onUnexpected);
    this.socket.on('close', this.onClose);
    this.socket.resume();
  }

  /** Hands the socket over to a link, paused, with nothing read from it. */
  take(): Socket {
    this.finish();
    this.socket.pause();
    return this.socket;
  }

  answerListenerGone(): void {
    if (this.finish()) replyError(this.socket, 'missing_destination', 'The listener of this spare went away or is draining.');
  }

  answerExpired(): void {
    if (this.finish()) replyTimeout(this.socket);
  }

  private finish(): boolean {
    if (this.ended) return false;
    this.ended = true;
    this.socket.off('data', this.onUnexpected);
    this.socket.off('end', this.onUnexpected);
    this.socket.off('close', this.onClose);
    return true;
  }

  private readonly onUnexpected = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    if (!this.finish()) return;
    this.onGone?.(this);
  };
}
