/**
 * What the status page's data layer computes, as pure functions and small
 * bounded containers: rates from byte samples, pages of a list, the
 * throughput history the chart draws, the ring of latest events. The server
 * uses them; unit specs (test/unit/status/) hold them to their word.
 */

/** Bytes a thing has moved so far, each way, at a moment. */
export interface ByteSample {
  atMs: number;
  bytesIn: number;
  bytesOut: number;
}

/** Bytes per second each way. */
export interface ByteRate {
  inPerSecond: number;
  outPerSecond: number;
}

/**
 * The rate between two samples of the same counters. No time passed, or time
 * going backwards, is no rate (0), and a counter that went down (a link that
 * was replaced under the same id cannot, but a relay-wide sum can when links
 * close between samples of open bytes) counts as 0, never negative.
 */
export function rateBetween(earlier: ByteSample, later: ByteSample): ByteRate {
  const seconds = (later.atMs - earlier.atMs) / 1000;
  if (!(seconds > 0)) return { inPerSecond: 0, outPerSecond: 0 };
  return {
    inPerSecond: Math.max(0, later.bytesIn - earlier.bytesIn) / seconds,
    outPerSecond: Math.max(0, later.bytesOut - earlier.bytesOut) / seconds,
  };
}

/**
 * Rates of many things (links) from one sample to the next: `sample()` takes
 * every thing's counters at one moment and keeps only the things present, so
 * the table is bounded by what is open now.
 */
export class RateTracker {
  private previous = new Map<string, ByteSample>();
  private rates = new Map<string, ByteRate>();

  sample(atMs: number, things: Iterable<{ id: string; bytesIn: number; bytesOut: number }>): void {
    const next = new Map<string, ByteSample>();
    const rates = new Map<string, ByteRate>();
    for (const { id, bytesIn, bytesOut } of things) {
      const now = { atMs, bytesIn, bytesOut };
      next.set(id, now);
      const before = this.previous.get(id);
      if (before) rates.set(id, rateBetween(before, now));
    }
    this.previous = next;
    this.rates = rates;
  }

  /** undefined until a thing has been seen in two samples. */
  rateOf(id: string): ByteRate | undefined {
    return this.rates.get(id);
  }

  clear(): void {
    this.previous.clear();
    this.rates.clear();
  }

  get size(): number {
    return this.previous.size;
  }
}

export interface PageQuery {
  offset: number;
  limit: number;
}

export interface Page<T> {
  items: T[];
  offset: number;
  limit: number;
  total: number;
}

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 200;

/**
 * A page query from URL parameters: absent or malformed values take the
 * default, a limit is capped at MAX_PAGE_LIMIT, an offset is at least 0.
 * Only decimal digits are numbers: `1e9`, `-3` and `0x10` are not.
 */
export function parsePageQuery(params: URLSearchParams): PageQuery {
  const whole = (name: string): number | undefined => {
    const text = params.get(name);
    if (text === null || !/^\d{1,9}$/.test(text)) return undefined;
    return Number(text);
  };
  const limit = whole('limit');
  return {
    offset: whole('offset') ?? 0,
    limit: limit === undefined || limit === 0 ? DEFAULT_PAGE_LIMIT : Math.min(limit, MAX_PAGE_LIMIT),
  };
}

/** One page of a list; an offset past the end gives the last page (or an empty one for an empty list). */
export function pageOf<T>(items: readonly T[], query: PageQuery): Page<T> {
  const total = items.length;
  const limit = Math.max(1, query.limit);
  const lastOffset = total === 0 ? 0 : Math.floor((total - 1) / limit) * limit;
  const offset = Math.min(Math.max(0, query.offset), lastOffset);
  return { items: items.slice(offset, offset + limit), offset, limit, total };
}

/** A ring of the latest N items, oldest first when read. */
export class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a ring holds at least 1 item, not ${capacity}`);
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
  }

  toArray(): T[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }

  get size(): number {
    return this.items.length;
  }

  clear(): void {
    this.items.length = 0;
    this.start = 0;
  }
}

/** One tick's figures of the relay as a whole, as the page's stream sends them. */
export interface TickFigures {
  /** Seconds since the epoch (uPlot's x axis). */
  time: number;
  inPerSecond: number;
  outPerSecond: number;
  dialsPerSecond: number;
  routes: number;
  links: number;
  waitingDialers: number;
  /** Refusals since the relay started, by `status code`. */
  refusals: Record<string, number>;
}

/** The relay-wide counters a tick reads: bytes in and out so far, and dials so far. */
export interface RelayTotals {
  atMs: number;
  bytesIn: number;
  bytesOut: number;
  dials: number;
}

/** Rates of one tick from the totals before and now (dials per second like bytes). */
export function tickRates(before: RelayTotals, now: RelayTotals): { inPerSecond: number; outPerSecond: number; dialsPerSecond: number } {
  const bytes = rateBetween(before, now);
  const dials = rateBetween({ atMs: before.atMs, bytesIn: before.dials, bytesOut: 0 }, { atMs: now.atMs, bytesIn: now.dials, bytesOut: 0 });
  return { inPerSecond: bytes.inPerSecond, outPerSecond: bytes.outPerSecond, dialsPerSecond: dials.inPerSecond };
}
