/** Reconnect delays: capped exponential backoff with full jitter (a random delay between 0 and the cap of the attempt). */

export interface ReconnectOptions {
  /** Cap of the first attempt's delay. Default 250 ms. */
  initialDelayMs?: number;
  /** Largest delay between attempts. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Attempts in a row before giving up with an 'error'. Default Infinity. */
  maxAttempts?: number;
}

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = {
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
};

/** Delay before attempt `attempt` (1 for the first retry). */
export function backoffDelayMs(attempt: number, options: Required<ReconnectOptions>, random: () => number = Math.random): number {
  const exponent = Math.min(attempt - 1, 30); // 2^30 ms is already past any sane cap
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  return Math.floor(random() * cap);
}
