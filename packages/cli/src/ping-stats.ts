/** The round trips of a `volley ping` run: each reply's time, and the figures of the summary. */

export interface RttSummary {
  min: number;
  avg: number;
  max: number;
  mdev: number;
  p50: number;
  p99: number;
}

export class RoundTrips {
  private readonly times: number[] = [];
  private jitterValue = 0;
  private slowestValue = 0;

  get count(): number {
    return this.times.length;
  }

  /** The slowest round trip so far, ms (0 before the first). */
  get slowest(): number {
    return this.slowestValue;
  }

  /** RFC 3550 estimator over consecutive round trips, ms. */
  get jitter(): number {
    return r3(this.jitterValue);
  }

  add(ms: number): void {
    const last = this.times.at(-1);
    if (last !== undefined) this.jitterValue += (Math.abs(ms - last) - this.jitterValue) / 16;
    this.times.push(ms);
    this.slowestValue = Math.max(this.slowestValue, ms);
  }

  summary(): RttSummary {
    const times = this.times;
    const sorted = [...times].sort((a, b) => a - b);
    const avg = times.reduce((a, b) => a + b, 0) / (times.length || 1);
    const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);
    return {
      min: r3(sorted[0] ?? 0),
      avg: r3(avg),
      max: r3(sorted.at(-1) ?? 0),
      mdev: r3(Math.sqrt(times.reduce((a, t) => a + (t - avg) ** 2, 0) / (times.length || 1))),
      p50: r3(pct(50)),
      p99: r3(pct(99)),
    };
  }
}

export function r3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
