/**
 * Per-source token buckets, for the transports' own per-source rates (WebRTC signaling requests, UDP connect
 * tokens and new UDP links): each source (source-address.ts) starts with `burst` tokens, gets `rate` back per
 * second up to `burst`, and spends one per request; a request finding less than one token is refused.
 *
 * Memory is bounded: a bucket that has refilled to its burst is the same as no bucket, so prune() (run
 * by its owner's sweep) forgets it; past MAX_SOURCES tracked at once, a new source is pruned for and,
 * if still no room, refused until buckets refill. The clock is injectable for tests.
 */

import { TokenBucket } from '@volley/protocol';

/** Most sources tracked at once (a bucket is ~100 bytes). */
const MAX_SOURCES = 65_536;

export class TokenBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  /**
   * `rate` tokens per second (Infinity: every request goes through, nothing is tracked), at most `burst`
   * (an integer ≥ 1); `now` in milliseconds.
   */
  constructor(
    readonly rate: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Spends one of `source`'s tokens; false if it has none (the request is over the rate). */
  take(source: string): boolean {
    if (this.rate === Infinity) return true;
    const now = this.now();
    let b = this.buckets.get(source);
    if (!b) {
      if (this.buckets.size >= MAX_SOURCES) this.prune();
      if (this.buckets.size >= MAX_SOURCES) return false;
      b = new TokenBucket(this.rate, this.burst, now);
      this.buckets.set(source, b);
    }
    return b.take(1, now);
  }

  /** Forgets the buckets that have refilled (a full bucket is the same as none). */
  prune(): void {
    const now = this.now();
    for (const [source, b] of this.buckets) if (b.fullAt(now) <= now) this.buckets.delete(source);
  }

  /** Sources tracked now. */
  get size(): number {
    return this.buckets.size;
  }
}
