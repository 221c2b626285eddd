/** The failed-auth table: its window, its refusal time, its bound, and what it counts as one source. */
import { AuthThrottle, throttleSource } from '../../../src/keys/auth-throttle';

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
    // limit 2: one failure each leaves every address under its limit.
    const throttle = new AuthThrottle({ limit: 2, windowMs: 60_000, maxAddresses: 3 });
    for (const ip of ['a', 'b', 'c', 'd']) throttle.recordFailure(ip, 0);
    expect(throttle.trackedAddresses).toBe(3);
    throttle.recordFailure('a', 1);
    throttle.recordFailure('d', 1);
    expect(throttle.retryAfterMs('a', 2)).toBe(0);
    expect(throttle.retryAfterMs('d', 2)).toBeGreaterThan(0);
  });

  it('keeps a throttled address throttled while many other addresses fail once each', () => {
    const throttle = new AuthThrottle({ limit: 3, windowMs: 60_000, maxAddresses: 100 });
    for (let i = 0; i < 3; i++) throttle.recordFailure('10.0.0.1', i);
    expect(throttle.retryAfterMs('10.0.0.1', 10)).toBeGreaterThan(0);
    // Ten times the table's size of one-off failures from other addresses.
    for (let i = 0; i < 1000; i++) throttle.recordFailure(`127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 20);
    expect(throttle.retryAfterMs('10.0.0.1', 30)).toBe(60_000 - 30);
    expect(throttle.trackedAddresses).toBe(100);
  });

  it('does not track a new address while every entry is throttled, and frees entries whose window ended', () => {
    const throttle = new AuthThrottle({ limit: 1, windowMs: 1000, maxAddresses: 2 });
    throttle.recordFailure('10.0.0.1', 0);
    throttle.recordFailure('10.0.0.2', 10);
    throttle.recordFailure('10.0.0.3', 20);
    expect(throttle.trackedAddresses).toBe(2);
    expect(throttle.retryAfterMs('10.0.0.1', 30)).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('10.0.0.2', 30)).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('10.0.0.3', 30)).toBe(0);
    // 10.0.0.1's window has ended: its slot goes to the newcomer.
    throttle.recordFailure('10.0.0.3', 1000);
    expect(throttle.retryAfterMs('10.0.0.3', 1001)).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('10.0.0.2', 1001)).toBeGreaterThan(0);
    expect(throttle.trackedAddresses).toBe(2);
  });

  it('counts every address of one IPv6 /64 together', () => {
    const throttle = new AuthThrottle({ limit: 3, windowMs: 60_000, maxAddresses: 100 });
    throttle.recordFailure('2001:db8:1:2::1', 0);
    throttle.recordFailure('2001:db8:1:2:ffff:ffff:ffff:fffe', 0);
    throttle.recordFailure('2001:0db8:0001:0002:1234:5678:9abc:def0', 0);
    expect(throttle.retryAfterMs('2001:db8:1:2::99', 1)).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('2001:db8:1:3::1', 1)).toBe(0);
    expect(throttle.trackedAddresses).toBe(1);
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
    const throttle = new AuthThrottle({ limit: 2, windowMs: 60_000, maxAddresses: 100 });
    throttle.recordFailure('::ffff:192.0.2.7', 0);
    throttle.recordFailure('192.0.2.7', 0);
    expect(throttle.retryAfterMs('::ffff:c000:207', 1)).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('192.0.2.8', 1)).toBe(0);
  });
});

describe('throttleSource', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['::FFFF:C000:0207', '192.0.2.7'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['unix-socket', 'unix-socket'],
  ])('counts %s as %s', (ip, source) => {
    expect(throttleSource(ip)).toBe(source);
  });
});
