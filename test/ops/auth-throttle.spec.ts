/** The failed-auth table: its window, its refusal time, and its bound. */
import { AuthThrottle } from '../../src/relay/auth-throttle';

describe('AuthThrottle', () => {
  it('throttles an address after `limit` failures until its window ends', () => {
    const throttle = new AuthThrottle({ limit: 2, windowMs: 1000, maxAddresses: 10 });
    throttle.recordFailure('a', 0);
    expect(throttle.retryAfterMs('a', 10)).toBe(0);
    throttle.recordFailure('a', 100);
    expect(throttle.retryAfterMs('a', 200)).toBe(800);
    expect(throttle.retryAfterMs('b', 200)).toBe(0);
    expect(throttle.retryAfterMs('a', 1000)).toBe(0);
    expect(throttle.trackedAddresses).toBe(0);
  });

  it('forgets the oldest address when the table is full', () => {
    const throttle = new AuthThrottle({ limit: 1, windowMs: 60_000, maxAddresses: 3 });
    for (const ip of ['a', 'b', 'c', 'd']) throttle.recordFailure(ip, 0);
    expect(throttle.trackedAddresses).toBe(3);
    expect(throttle.retryAfterMs('a', 1)).toBe(0);
    expect(throttle.retryAfterMs('d', 1)).toBeGreaterThan(0);
  });
});
