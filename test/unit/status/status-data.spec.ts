/** The status page's data layer: rates from byte samples, pages, the bounded ring. */
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, pageOf, parsePageQuery, RateTracker, rateBetween, Ring, tickRates } from '../../../src/status/status-data';

describe('rateBetween', () => {
  it('is bytes moved over the seconds between two samples, each way', () => {
    expect(rateBetween({ atMs: 1000, bytesIn: 100, bytesOut: 0 }, { atMs: 3000, bytesIn: 2100, bytesOut: 500 })).toEqual({ inPerSecond: 1000, outPerSecond: 250 });
  });

  it('is 0 when no time passed or time went backwards', () => {
    expect(rateBetween({ atMs: 5000, bytesIn: 0, bytesOut: 0 }, { atMs: 5000, bytesIn: 10, bytesOut: 10 })).toEqual({ inPerSecond: 0, outPerSecond: 0 });
    expect(rateBetween({ atMs: 6000, bytesIn: 0, bytesOut: 0 }, { atMs: 5000, bytesIn: 10, bytesOut: 10 })).toEqual({ inPerSecond: 0, outPerSecond: 0 });
  });

  it('never goes negative when a sum falls (links closed between samples)', () => {
    expect(rateBetween({ atMs: 0, bytesIn: 500, bytesOut: 500 }, { atMs: 1000, bytesIn: 100, bytesOut: 700 })).toEqual({ inPerSecond: 0, outPerSecond: 200 });
  });
});

describe('tickRates', () => {
  it('gives dials per second beside bytes per second', () => {
    expect(tickRates({ atMs: 0, bytesIn: 0, bytesOut: 0, dials: 10 }, { atMs: 500, bytesIn: 512, bytesOut: 1024, dials: 15 })).toEqual({ inPerSecond: 1024, outPerSecond: 2048, dialsPerSecond: 10 });
  });
});

describe('RateTracker', () => {
  it('has no rate for a thing seen once, and one after its second sample', () => {
    const tracker = new RateTracker();
    tracker.sample(0, [{ id: 'a', bytesIn: 0, bytesOut: 0 }]);
    expect(tracker.rateOf('a')).toBeUndefined();
    tracker.sample(1000, [{ id: 'a', bytesIn: 4096, bytesOut: 1 }, { id: 'b', bytesIn: 9, bytesOut: 9 }]);
    expect(tracker.rateOf('a')).toEqual({ inPerSecond: 4096, outPerSecond: 1 });
    expect(tracker.rateOf('b')).toBeUndefined();
  });

  it('forgets what is gone, so it holds only what is open', () => {
    const tracker = new RateTracker();
    tracker.sample(0, [{ id: 'a', bytesIn: 0, bytesOut: 0 }, { id: 'b', bytesIn: 0, bytesOut: 0 }]);
    tracker.sample(1000, [{ id: 'b', bytesIn: 10, bytesOut: 0 }]);
    expect(tracker.size).toBe(1);
    expect(tracker.rateOf('a')).toBeUndefined();
    tracker.clear();
    expect(tracker.size).toBe(0);
    expect(tracker.rateOf('b')).toBeUndefined();
  });
});

describe('parsePageQuery', () => {
  const q = (text: string) => parsePageQuery(new URLSearchParams(text));

  it('reads offset and limit', () => {
    expect(q('offset=100&limit=25')).toEqual({ offset: 100, limit: 25 });
  });

  it('defaults what is absent, zero or not plain digits', () => {
    expect(q('')).toEqual({ offset: 0, limit: DEFAULT_PAGE_LIMIT });
    expect(q('limit=0')).toEqual({ offset: 0, limit: DEFAULT_PAGE_LIMIT });
    expect(q('offset=-3&limit=1e3')).toEqual({ offset: 0, limit: DEFAULT_PAGE_LIMIT });
    expect(q('offset=0x10&limit=%20')).toEqual({ offset: 0, limit: DEFAULT_PAGE_LIMIT });
    expect(q('offset=99999999999999999999')).toEqual({ offset: 0, limit: DEFAULT_PAGE_LIMIT });
  });

  it('caps the limit', () => {
    expect(q(`limit=${MAX_PAGE_LIMIT + 1}`).limit).toBe(MAX_PAGE_LIMIT);
  });
});

describe('pageOf', () => {
  const items = Array.from({ length: 5000 }, (_, i) => i);

  it('slices one page and says where it is in the whole', () => {
    expect(pageOf(items, { offset: 100, limit: 50 })).toEqual({ items: items.slice(100, 150), offset: 100, limit: 50, total: 5000 });
  });

  it('gives the last page for an offset past the end', () => {
    const page = pageOf(items, { offset: 10_000, limit: 200 });
    expect(page.offset).toBe(4800);
    expect(page.items).toHaveLength(200);
    expect(pageOf(items.slice(0, 101), { offset: 500, limit: 50 })).toMatchObject({ offset: 100, items: [100] });
  });

  it('is an empty first page of an empty list', () => {
    expect(pageOf([], { offset: 50, limit: 50 })).toEqual({ items: [], offset: 0, limit: 50, total: 0 });
  });
});

describe('Ring', () => {
  it('keeps the latest N, oldest first', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    expect(ring.toArray()).toEqual([5, 6, 7]);
    expect(ring.size).toBe(3);
  });

  it('reads what it has before it is full, and nothing after clear', () => {
    const ring = new Ring<string>(4);
    ring.push('a');
    ring.push('b');
    expect(ring.toArray()).toEqual(['a', 'b']);
    ring.clear();
    expect(ring.toArray()).toEqual([]);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});
