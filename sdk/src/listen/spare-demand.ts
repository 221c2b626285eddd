/**
 * How many spares a listener on `spares: 'auto'` keeps: a small floor, so
 * that a quiet route still links its next dial at once, growing with the
 * recent link rate up to what the relay grants, and back to the floor when
 * the route goes quiet.
 *
 * The rule: enough spares for the busiest half second of the last 10 s. A
 * used spare is replaced after about one round trip to the relay, so a pool
 * that covers half a second of dials at the peak rate is not emptied by a
 * burst on a link of up to ~500 ms RTT; dials beyond it take the notify path,
 * which is slower but never refused. Shrinking needs no timer: the pool
 * simply does not replace a used or expired spare while it holds more than
 * the target (closing a held spare could race the relay linking it).
 */

/** Spares an idle 'auto' listener keeps: one for the next dial, one for a dial while it is replaced. */
export const AUTO_SPARES_FLOOR = 2;

/** 'auto' never asks for more than this, whatever the relay grants: each spare is a socket at both ends. */
export const AUTO_SPARES_CEILING = 64;

const BUCKET_MS = 500;
const WINDOW_BUCKETS = 20; // 10 s

export class SpareDemand {
  /** Links per half-second bucket, a ring over the last 10 s. */
  private readonly counts = new Uint32Array(WINDOW_BUCKETS);
  /** The bucket number (time / BUCKET_MS) that counts[bucket % WINDOW_BUCKETS] holds. */
  private readonly bucketOf = new Float64Array(WINDOW_BUCKETS).fill(-1);

  constructor(
    /** The most spares the relay grants this listener. */
    private readonly granted: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A dialer was linked to this listener (through a spare or a dial-back). */
  recordLink(): void {
    const bucket = Math.floor(this.now() / BUCKET_MS);
    const slot = bucket % WINDOW_BUCKETS;
    if (this.bucketOf[slot] !== bucket) {
      this.bucketOf[slot] = bucket;
      this.counts[slot] = 0;
    }
    this.counts[slot] += 1;
  }

  /** The spares to keep now. */
  target(): number {
    const newest = Math.floor(this.now() / BUCKET_MS);
    let busiest = 0;
    for (let slot = 0; slot < WINDOW_BUCKETS; slot += 1) {
      if (newest - this.bucketOf[slot] < WINDOW_BUCKETS) busiest = Math.max(busiest, this.counts[slot]);
    }
    const cap = Math.min(this.granted, AUTO_SPARES_CEILING);
    return Math.min(cap, Math.max(AUTO_SPARES_FLOOR, busiest));
  }
}
