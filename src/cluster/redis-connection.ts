/**
 * How cluster mode talks to Redis: the options of a command connection, the
 * first connect with a deadline, one log line per loss and recovery, and
 * URLs without their password. The key store and the route directory each
 * open their own connections with these.
 */
import type Redis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Logger } from 'pino';

/** How long open() waits for Redis before it gives up (the relay then refuses to start). */
const OPEN_TIMEOUT_MS = 5000;

/**
 * Bounds every command of the command connection, queued ones included: a
 * lookup that misses the cache while Redis is away rejects after this
 * (the caller refuses the request) instead of holding the dialer.
 */
const COMMAND_TIMEOUT_MS = 1500;

/** TCP connect, each attempt; a Redis that accepts but does not answer is each user's watchdog's (the key store's change reader). */
const CONNECT_TIMEOUT_MS = 3000;

/** How long a connection being made again may wait for Redis to acknowledge its close before it is destroyed. */
const DISCONNECT_TIMEOUT_MS = 500;

/** Reconnection attempts back off to this, so a Redis that returns is found within two seconds. */
const MAX_RECONNECT_DELAY_MS = 2000;

/** The options of a connection that sends commands (the key store's, the directory's; each names itself with connectionName). */
export const COMMAND_CONNECTION: RedisOptions = {
  lazyConnect: true,
  connectionName: 'remoted-keys',
  commandTimeout: COMMAND_TIMEOUT_MS,
  connectTimeout: CONNECT_TIMEOUT_MS,
  disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  // Queued while reconnecting, so a blip costs a short wait, not an error; COMMAND_TIMEOUT_MS bounds the wait.
  enableOfflineQueue: true,
  maxRetriesPerRequest: 1,
  // A write in flight when the connection dropped has an unknown outcome and has already been
  // reported as failed (timed out): sending it again could apply it twice, or make create() fail after it worked.
  autoResendUnfulfilledCommands: false,
  retryStrategy: (attempt) => Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS),
};

/** Waits for the first 'ready', through refused attempts (retryStrategy repeats them), up to OPEN_TIMEOUT_MS. */
export async function connectWithin(redis: Redis, where: string): Promise<void> {
  let lastError: unknown;
  const remember = (err: unknown): void => {
    lastError = err;
  };
  redis.on('error', remember);
  try {
    await new Promise<void>((resolve, reject) => {
      const onReady = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        const why = lastError === undefined ? '' : `: ${errorMessage(lastError)}`;
        reject(new Error(`cannot reach Redis at ${where} within ${OPEN_TIMEOUT_MS} ms${why}`));
      }, OPEN_TIMEOUT_MS);
      redis.once('ready', onReady);
      // A refused first attempt rejects here, and is the error reported if none succeeds by the deadline.
      redis.connect().catch(remember);
    });
  } finally {
    redis.off('error', remember);
  }
}

/** One warning when a connection is lost and one line when it is back, not one per reconnection attempt. */
export function reportReachability(redis: Redis, log: Logger, connection: string): void {
  let downSinceMs: number | undefined;
  redis.on('error', (err: Error) => {
    if (downSinceMs !== undefined) return;
    downSinceMs = Date.now();
    log.warn({ connection, err: err.message }, 'Redis unreachable; reconnecting');
  });
  redis.on('ready', () => {
    if (downSinceMs === undefined) return;
    log.info({ connection, downMs: Date.now() - downSinceMs }, 'Redis reachable again');
    downSinceMs = undefined;
  });
}

/** A polite QUIT when Redis is there to hear it, else a disconnect: close() never waits on a Redis that is away. */
export async function quitOrDisconnect(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    try {
      await redis.quit();
      return;
    } catch {
      // A QUIT that timed out leaves nothing to say goodbye to: the disconnect below ends it.
    }
  }
  redis.disconnect();
}

/** The URL without its password, for messages and logs; one that does not parse is not echoed, since it may hold one. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = '';
    return parsed.toString();
  } catch {
    return '<unparsable Redis URL>';
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
