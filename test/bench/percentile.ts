/** The nearest-rank percentile (0 < p ≤ 1) of an ascending array, as every benchmark reports it. */
export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
