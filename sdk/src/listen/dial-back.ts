/**
 * A listener's dial-back for one notify message (docs/protocol.md, section 3): a new
 * connection to the relay with the dialer's id and the server key, tried a
 * few times when the relay cannot be reached (as the original SDK does).
 */
import type { Socket } from 'node:net';
import { withDeadline } from '../dial/deadline';
import { type NotifyMessage, RemotedError } from '../wire/protocol';
import type { RemotedUrl } from '../wire/urls';
import { openWebRoute, type RelayTlsOptions } from '../dial/webroute-client';

export interface DialBackOptions {
  url: RemotedUrl;
  tls: RelayTlsOptions | undefined;
  attempts: number;
  /** Wait before try n+1 is n times this. */
  retryDelayMs: number;
  /** Bound on each try, connect and handshake. */
  handshakeTimeoutMs: number;
  /** Sockets of tries in progress, so that the listener's close() can destroy them. */
  inProgress: Set<Socket>;
  /** True once the listener closes: no further try. */
  stopped(): boolean;
}

/** The linked socket; undefined when the listener stopped first; throws the last try's error. */
export async function dialBack(notify: NotifyMessage, options: DialBackOptions): Promise<Socket | undefined> {
  let lastError: Error | undefined;
  for (let attempt = 1; attempt <= options.attempts && !options.stopped(); attempt++) {
    try {
      return await openDialBack(notify, options);
    } catch (err) {
      lastError = err as Error;
      // The relay answered: the dialer is gone or the key is refused; trying again changes nothing.
      if (err instanceof RemotedError) break;
      if (attempt < options.attempts) await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs * attempt));
    }
  }
  if (lastError && !options.stopped()) throw lastError;
  return undefined;
}

function openDialBack(notify: NotifyMessage, options: DialBackOptions): Promise<Socket> {
  const { url, tls, handshakeTimeoutMs, inProgress } = options;
  return withDeadline({ timeoutMs: handshakeTimeoutMs }, async (track) => {
    let opened: Socket | undefined;
    const onSocket = (socket: Socket): void => {
      opened = socket;
      track(socket);
      inProgress.add(socket);
    };
    try {
      const request = { url, id: notify.id, timeoutSeconds: notify.timeout > 0 ? notify.timeout : undefined };
      return (await openWebRoute(request, { tls, onSocket })).socket;
    } finally {
      if (opened) inProgress.delete(opened);
    }
  });
}
