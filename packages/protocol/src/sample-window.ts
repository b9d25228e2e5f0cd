/**
 * Windowed statistics for display: the last N samples of a quantity (RTT, jitter, ...) in a fixed
 * ring buffer, summarised on demand as count/last/min/avg/max and nearest-rank percentiles.
 * Adding is O(1) with no allocation; summary() sorts a copy and is meant for stats reads only.
 */

export interface SampleSummary {
  count: number;
  last: number;
  min: number;
  avg: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export class SampleWindow {
  private readonly ring: Float64Array;
  /** Index the next sample is written to. */
  private head = 0;
  private held = 0;

  /** Keeps the last `capacity` samples (a positive integer). */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`SampleWindow capacity must be a positive integer, got ${capacity}`);
    this.ring = new Float64Array(capacity);
  }

  /** Samples currently held. */
  get count(): number {
    return this.held;
  }

  /** Adds a sample, evicting the oldest when full. Non-finite values are ignored. */
  add(value: number): void {
    if (!Number.isFinite(value)) return;
    this.ring[this.head] = value;
    this.head = (this.head + 1) % this.ring.length;
    if (this.held < this.ring.length) this.held++;
  }

  /** Summary of the held samples; undefined when empty. Percentiles by nearest rank. */
  summary(): SampleSummary | undefined {
    const n = this.held;
    if (n === 0) return undefined;
    const cap = this.ring.length;
    const sorted = new Float64Array(n);
    // The held samples are the n slots ending just before head.
    for (let i = 0; i < n; i++) sorted[i] = this.ring[(this.head - n + i + cap) % cap]!;
    const last = sorted[n - 1]!;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i]!;
    sorted.sort();
    // Nearest rank: the smallest value with at least p% of the samples at or below it.
    const rank = (p: number): number => sorted[Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1]!;
    return { count: n, last, min: sorted[0]!, avg: sum / n, max: sorted[n - 1]!, p50: rank(50), p95: rank(95), p99: rank(99) };
  }

  clear(): void {
    this.head = 0;
    this.held = 0;
  }
}
