/**
 * Reconnect delays: capped exponential backoff with full jitter (a random
 * delay between 0 and the cap of the attempt), the first attempt included.
 *
 * Right after a route that was open dropped, the cap is small
 * (recoveryMaxDelayMs) for a while (recoveryWindowMs): most drops are a relay
 * restart of a few seconds, and a listener that waits up to 30 s after the
 * relay is back leaves its dialers with missing_destination meanwhile. Full
 * jitter still spreads many listeners evenly over that cap (1,000 listeners
 * over 2 s is 500 handshakes a second, not one burst). A longer outage falls
 * back to the normal cap, so a relay that stays down is not hammered.
 */

export interface ReconnectOptions {
  /** Cap of the first attempt's delay. Default 250 ms. */
  initialDelayMs?: number;
  /** Largest delay between attempts. Default 30 000 ms. */
  maxDelayMs?: number;
  /** Attempts in a row before giving up with an 'error'. Default Infinity. */
  maxAttempts?: number;
  /** Cap of each delay while in the recovery window after an open route dropped. Default 2000 ms. */
  recoveryMaxDelayMs?: number;
  /** How long after the drop the recovery cap holds; then delays grow to maxDelayMs. 0 turns it off. Default 60 000 ms. */
  recoveryWindowMs?: number;
}

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = {
  initialDelayMs: 250,
  maxDelayMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  recoveryMaxDelayMs: 2000,
  recoveryWindowMs: 60_000,
};

/**
 * The cap of attempt `attempt` (1 for the first retry). `msSinceDrop` is the
 * time since an open route dropped, undefined when the route has not been
 * open (a first connect that fails gets no recovery cap).
 */
export function backoffCapMs(attempt: number, options: Required<ReconnectOptions>, msSinceDrop?: number): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30); // 2^30 ms is already past any sane cap
  const cap = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  const recovering = msSinceDrop !== undefined && msSinceDrop < options.recoveryWindowMs;
  return recovering ? Math.min(cap, options.recoveryMaxDelayMs) : cap;
}

/** Delay before attempt `attempt` (1 for the first retry): uniform in [0, cap). */
export function backoffDelayMs(attempt: number, options: Required<ReconnectOptions>, random: () => number = Math.random, msSinceDrop?: number): number {
  return Math.floor(random() * backoffCapMs(attempt, options, msSinceDrop));
}
