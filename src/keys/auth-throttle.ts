/**
 * Failed authentications per source, so keys cannot be guessed by brute
 * force: past `limit` failures in a fixed window, the source is refused
 * (429, or RESOURCE_EXHAUSTED on the control plane) until the window ends.
 *
 * A source is an IPv4 address, or an IPv6 /64: one host is handed a whole
 * /64, so counting single IPv6 addresses would give it 2^64 fresh budgets.
 * An IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) is its IPv4 address.
 *
 * The table is bounded by `maxAddresses`. Sources still within their budget
 * and throttled sources are kept in two insertion-ordered maps, so that a
 * full table forgets the oldest source that is NOT throttled, in O(1): a
 * flood of one-off failures from many addresses must not free an address
 * that is being throttled.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface AuthThrottleOptions {
  limit: number;
  windowMs: number;
  maxAddresses: number;
}

interface Window {
  startedAt: number;
  failures: number;
}

export class AuthThrottle {
  /** Sources under their limit, oldest first. */
  private readonly counting = new Map<string, Window>();
  /** Sources at their limit, in the order they reached it. */
  private readonly throttled = new Map<string, Window>();

  constructor(private readonly opts: AuthThrottleOptions) {}

  /** Ms until the address may try again; 0 when it may now. */
  retryAfterMs(ip: string, now: number): number {
    const source = throttleSource(ip);
    const window = this.current(source, now);
    if (!window || window.failures < this.opts.limit) return 0;
    return window.startedAt + this.opts.windowMs - now;
  }

  recordFailure(ip: string, now: number): void {
    const source = throttleSource(ip);
    const window = this.current(source, now);
    if (window) {
      window.failures++;
      this.throttleIfDue(source, window);
      return;
    }
    if (!this.makeRoom(now)) return;
    const started = { startedAt: now, failures: 1 };
    this.counting.set(source, started);
    this.throttleIfDue(source, started);
  }

  get trackedAddresses(): number {
    return this.counting.size + this.throttled.size;
  }

  /**
   * Frees a slot for a new source, if one can be freed: the oldest source
   * that is not throttled, else a throttled one whose window has ended.
   * When every slot holds a throttled source whose window runs on, the new
   * source is not tracked (false). Refusing it instead would let whoever
   * controls `maxAddresses` addresses lock every other address out of the
   * relay, valid keys included; not counting it costs at most the guesses
   * of a key, and keys are 64 random characters, beyond brute force. The
   * throttle's job is to keep the sources it holds throttled.
   */
  private makeRoom(now: number): boolean {
    if (this.trackedAddresses < this.opts.maxAddresses) return true;
    const oldest = this.counting.keys().next();
    if (!oldest.done) {
      this.counting.delete(oldest.value);
      return true;
    }
    // Throttled in order of reaching the limit, which is close to the order
    // their windows end: looking at the first one only keeps this O(1).
    const first = this.throttled.entries().next();
    if (!first.done && now - first.value[1].startedAt >= this.opts.windowMs) {
      this.throttled.delete(first.value[0]);
      return true;
    }
    return false;
  }

  private throttleIfDue(source: string, window: Window): void {
    if (window.failures < this.opts.limit || this.throttled.has(source)) return;
    this.counting.delete(source);
    this.throttled.set(source, window);
  }

  private current(source: string, now: number): Window | undefined {
    const window = this.counting.get(source) ?? this.throttled.get(source);
    if (window && now - window.startedAt >= this.opts.windowMs) {
      this.counting.delete(source);
      this.throttled.delete(source);
      return undefined;
    }
    return window;
  }
}

/**
 * The key an address is counted under: an IPv4 address as it is (mapped
 * IPv6 forms included), an IPv6 address as its /64 (`2001:db8:0:1::/64`).
 * Anything else (a name, an empty string) is its own key.
 */
export function throttleSource(ip: string): string {
  const address = ip.split('%')[0];
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return ip;
  const groups = expandIPv6(address);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join('.');
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a dotted IPv4 tail expanded). */
function expandIPv6(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}
