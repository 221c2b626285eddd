/** What the relay and its splice worker say to each other over the IPC channel (JSON). */

/** Bytes written to each side and read from both, by the worker since it got the link. */
export interface SpliceCounts {
  toDialer: number;
  toListener: number;
  read: number;
}

export type ToSpliceWorker =
  /**
   * One side of a link, with its socket (none if it closed before it could
   * move). `first`: base64 of bytes the relay read from the other side and
   * did not write yet; they go to this side before anything else.
   */
  | { type: 'side'; link: string; side: 0 | 1; first: string }
  | { type: 'destroy'; link: string };

export type FromSpliceWorker =
  | { type: 'ready' }
  /** Both sides arrived and relay: the relay's copies of the sockets can go. */
  | { type: 'adopted'; link: string }
  /** Counts of the links that moved bytes since the last report. */
  | { type: 'counts'; links: [string, SpliceCounts][] }
  /** Both sides closed; `error` if either failed (or never arrived). */
  | { type: 'closed'; link: string; counts: SpliceCounts; error: boolean };
