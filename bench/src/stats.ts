/** Summaries of repeated measurements. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number;
  unit: string;
}

export function summarize(values: readonly number[], unit: string): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), min: sorted[0], max: sorted[sorted.length - 1], runs: sorted.length, unit };
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}
