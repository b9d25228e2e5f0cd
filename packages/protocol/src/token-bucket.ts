/**
 * A token bucket, sans-I/O (fed `now` in ms): at most `rate` units per second on average, bursts of up to
 * `burst` units. It starts full. The server endpoint's per-session and per-source limits are made of these.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly rate: number,
    readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes `amount` units; false (nothing taken) when that would exceed the rate. */
  take(amount: number, now: number): boolean {
    this.refill(now);
    if (amount > this.tokens) return false;
    this.tokens -= amount;
    return true;
  }

  /** Units that could be taken at `now`. */
  available(now: number): number {
    this.refill(now);
    return this.tokens;
  }

  /** When the bucket is full again if nothing more is taken (absolute ms; `now` or earlier if it is full). */
  fullAt(now: number): number {
    this.refill(now);
    return this.last + ((this.burst - this.tokens) / this.rate) * 1000;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
      this.last = now;
    }
  }
}
