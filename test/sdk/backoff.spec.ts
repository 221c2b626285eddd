/** The listener's reconnect delays (sdk/src/listen/backoff.ts): full jitter under a cap that is small for a while after an open route dropped. */
import fc from 'fast-check';
import { backoffCapMs, backoffDelayMs, DEFAULT_RECONNECT } from '@remoted/sdk';

const WINDOW = DEFAULT_RECONNECT.recoveryWindowMs;
const RECOVERY_CAP = DEFAULT_RECONNECT.recoveryMaxDelayMs;

describe('reconnect backoff', () => {
  it('in the recovery window after a drop, every delay is below the recovery cap (2 s), whatever the attempt', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: WINDOW - 1 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, msSinceDrop, r) => {
        const delay = backoffDelayMs(attempt, DEFAULT_RECONNECT, () => r, msSinceDrop);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(RECOVERY_CAP);
      }),
    );
  });

  it('past the window, and for a route that never opened, the cap grows to maxDelayMs (30 s) and never beyond', () => {
    expect(backoffCapMs(20, DEFAULT_RECONNECT, WINDOW)).toBe(DEFAULT_RECONNECT.maxDelayMs);
    expect(backoffCapMs(20, DEFAULT_RECONNECT, undefined)).toBe(DEFAULT_RECONNECT.maxDelayMs);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.option(fc.integer({ min: WINDOW, max: 10 * WINDOW }), { nil: undefined }), (attempt, msSinceDrop) => {
        const cap = backoffCapMs(attempt, DEFAULT_RECONNECT, msSinceDrop);
        expect(cap).toBe(Math.min(DEFAULT_RECONNECT.maxDelayMs, DEFAULT_RECONNECT.initialDelayMs * 2 ** Math.min(attempt - 1, 30)));
      }),
    );
  });

  it('full jitter from the first attempt: a delay is random * cap, so the whole range [0, cap) is used', () => {
    // The first retry after a drop is not immediate for everyone: 1,000 listeners spread over the first cap.
    expect(backoffDelayMs(1, DEFAULT_RECONNECT, () => 0, 0)).toBe(0);
    expect(backoffDelayMs(1, DEFAULT_RECONNECT, () => 0.5, 0)).toBe(125);
    expect(backoffDelayMs(1, DEFAULT_RECONNECT, () => 0.999, 0)).toBe(249);
    expect(backoffDelayMs(8, DEFAULT_RECONNECT, () => 0.5, 1000)).toBe(RECOVERY_CAP / 2);
    expect(backoffDelayMs(7, DEFAULT_RECONNECT, () => 0.5, WINDOW)).toBe((DEFAULT_RECONNECT.initialDelayMs * 2 ** 6) / 2);
  });

  it('a smaller maxDelayMs still wins inside the window; a window of 0 turns recovery off', () => {
    expect(backoffCapMs(10, { ...DEFAULT_RECONNECT, maxDelayMs: 500 }, 0)).toBe(500);
    expect(backoffCapMs(10, { ...DEFAULT_RECONNECT, recoveryWindowMs: 0 }, 0)).toBe(DEFAULT_RECONNECT.maxDelayMs);
  });
});
