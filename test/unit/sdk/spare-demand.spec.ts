/** The 'auto' spares rule (sdk/src/listen/spare-demand.ts) on a hand-driven clock. */
import { AUTO_SPARES_CEILING, AUTO_SPARES_FLOOR, SpareDemand } from '@remoted/sdk/listen/spare-demand';

describe('SpareDemand', () => {
  let now = 1_000_000;
  const clock = (): number => now;
  beforeEach(() => {
    now = 1_000_000;
  });

  it('keeps the floor while idle, and never more than the grant', () => {
    expect(new SpareDemand(16, clock).target()).toBe(AUTO_SPARES_FLOOR);
    expect(new SpareDemand(1, clock).target()).toBe(1);
    expect(new SpareDemand(0, clock).target()).toBe(0);
  });

  it('follows the busiest half second of the last 10 s', () => {
    const demand = new SpareDemand(16, clock);
    for (let i = 0; i < 7; i++) demand.recordLink();
    expect(demand.target()).toBe(7);
    now += 600; // next half second: 3 links, the busiest is still 7
    for (let i = 0; i < 3; i++) demand.recordLink();
    expect(demand.target()).toBe(7);
    now += 9_500; // the 7 are past 10 s, the 3 are not
    expect(demand.target()).toBe(3);
    now += 1_000;
    expect(demand.target()).toBe(AUTO_SPARES_FLOOR);
  });

  it('caps at the grant and at the ceiling', () => {
    const small = new SpareDemand(5, clock);
    const large = new SpareDemand(10_000, clock);
    for (let i = 0; i < 500; i++) {
      small.recordLink();
      large.recordLink();
    }
    expect(small.target()).toBe(5);
    expect(large.target()).toBe(AUTO_SPARES_CEILING);
  });

  it('forgets a slot reused after the ring wrapped (20 s later)', () => {
    const demand = new SpareDemand(64, clock);
    for (let i = 0; i < 30; i++) demand.recordLink();
    now += 20_000; // the same ring slot, a new bucket
    demand.recordLink();
    expect(demand.target()).toBe(AUTO_SPARES_FLOOR);
  });
});
