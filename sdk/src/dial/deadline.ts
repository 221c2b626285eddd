/**
 * One timeout and one AbortSignal over a whole dial (every hop): when either
 * fires, the sockets the dial opened are destroyed, which ends whatever step
 * is waiting on them, and the dial rejects with the timeout or abort reason
 * rather than with the closed socket's error.
 */
import type { Socket } from 'node:net';
import { RemotedError } from '../wire/protocol';

export interface DeadlineOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type TrackSocket = (socket: Socket) => void;

export async function withDeadline<T>(options: DeadlineOptions, work: (track: TrackSocket) => Promise<T>): Promise<T> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const sockets: Socket[] = [];
  let failure: Error | undefined;
  const stop = (err: Error): void => {
    failure ??= err;
    for (const socket of sockets) socket.destroy();
  };
  const timer =
    timeoutMs !== undefined && timeoutMs > 0
      ? setTimeout(() => stop(new RemotedError('timeout', `No link within ${timeoutMs} ms.`)), timeoutMs)
      : undefined;
  const onAbort = (): void => stop(abortReason(signal));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await work((socket) => {
      sockets.push(socket);
      if (failure) socket.destroy();
    });
  } catch (err) {
    for (const socket of sockets) socket.destroy();
    throw failure ?? err;
  } finally {
    if (timer) clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException('The dial was aborted.', 'AbortError');
}
