/**
 * Failed authentications per source address, so keys cannot be guessed by
 * brute force: past `limit` failures in a fixed window, the address is
 * refused (429) until the window ends. The table is bounded: when full, the
 * address tracked longest is forgotten first (Map keeps insertion order).
 */
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
  private readonly windows = new Map<string, Window>();

  constructor(private readonly opts: AuthThrottleOptions) {}

  /** Ms until the address may try again; 0 when it may now. */
  retryAfterMs(ip: string, now: number): number {
    const window = this.current(ip, now);
    if (!window || window.failures < this.opts.limit) return 0;
    return window.startedAt + this.opts.windowMs - now;
  }

  recordFailure(ip: string, now: number): void {
    const window = this.current(ip, now);
    if (window) {
      window.failures++;
      return;
    }
    if (this.windows.size >= this.opts.maxAddresses) {
      const oldest = this.windows.keys().next();
      if (!oldest.done) this.windows.delete(oldest.value);
    }
    this.windows.set(ip, { startedAt: now, failures: 1 });
  }

  get trackedAddresses(): number {
    return this.windows.size;
  }

  private current(ip: string, now: number): Window | undefined {
    const window = this.windows.get(ip);
    if (window && now - window.startedAt >= this.opts.windowMs) {
      this.windows.delete(ip);
      return undefined;
    }
    return window;
  }
}
