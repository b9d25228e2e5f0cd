/** A latency (or delay) distribution as the network benchmark reports it: ms, rounded to 0.01. */

import { percentile } from '../percentile.js';

export interface LatencySummary {
  count: number;
  minMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
}

const round = (x: number): number => Math.round(x * 100) / 100;

/** The summary of `samples` (ms), or null when there are none. Nearest-rank percentiles, as every benchmark. */
export function summarize(samples: readonly number[]): LatencySummary | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  let sum = 0;
  for (const x of sorted) sum += x;
  return {
    count: sorted.length,
    minMs: round(sorted[0]!),
    p50Ms: round(percentile(sorted, 0.5)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1]!),
    meanMs: round(sum / sorted.length),
  };
}

/** Keeps at most `cap` samples (the first ones) and counts the rest, so no run can grow memory without bound. */
export class SampleLog {
  readonly samples: number[] = [];
  dropped = 0;

  constructor(private readonly cap = 200_000) {}

  add(ms: number): void {
    if (this.samples.length < this.cap) this.samples.push(ms);
    else this.dropped++;
  }
}
