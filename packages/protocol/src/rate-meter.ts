/**
 * Per-second rates (bytes, packets) over a sliding one-second window of ten 100 ms buckets.
 * Fixed memory; time is passed in.
 */

const BUCKETS = 10;
const BUCKET_MS = 100;

export class RateMeter {
  private readonly counts = new Float64Array(BUCKETS);
  private lastBucket = -Infinity;
  /** Everything ever counted. */
  total = 0;

  add(now: number, amount: number): void {
    this.advance(now);
    this.counts[slot(this.lastBucket)]! += amount;
    this.total += amount;
  }

  /** Amount counted over the last second. */
  perSecond(now: number): number {
    this.advance(now);
    let sum = 0;
    for (let i = 0; i < BUCKETS; i++) sum += this.counts[i]!;
    return sum;
  }

  private advance(now: number): void {
    const bucket = Math.floor(now / BUCKET_MS);
    if (bucket <= this.lastBucket) return;
    const steps = Math.min(BUCKETS, bucket - this.lastBucket);
    for (let i = 1; i <= steps; i++) this.counts[slot(bucket - steps + i)] = 0;
    this.lastBucket = bucket;
  }
}

function slot(bucket: number): number {
  return ((bucket % BUCKETS) + BUCKETS) % BUCKETS;
}
