/**
 * A short, time-ordered history of values (snapshots of an entity or of a world), sampled at any time in
 * between: what snapshot interpolation reads on a client (docs/netcode.md) and what lag compensation rewinds
 * on a server. Pure and bounded: no clock of its own (times are the caller's, ms), at most `capacity`
 * snapshots (the oldest go first), and sampling allocates nothing but what `interpolate` returns.
 */

/** The value `alpha` of the way from `from` to `to` (0: from, 1: to; above 1 when extrapolating). */
export type Interpolate<T> = (from: T, to: T, alpha: number) => T;

/** What the last `at()` did: the snapshots it read and how far past the newest it went. */
export interface SampleInfo {
  /** Times of the two snapshots read (equal when one was held). */
  from: number;
  to: number;
  alpha: number;
  /** How far the time asked for was past the newest snapshot, ms (0 when it was inside the history). */
  beyond: number;
  /** True when the time was past the newest snapshot and the value was extrapolated, not held. */
  extrapolated: boolean;
}

export class SnapshotBuffer<T> {
  private readonly times: number[] = [];
  private readonly values: T[] = [];
  /** Filled by every `at()`; read it right after (it is reused). */
  readonly last: SampleInfo = { from: 0, to: 0, alpha: 0, beyond: 0, extrapolated: false };

  constructor(readonly capacity = 64) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`capacity must be an integer ≥ 2, got ${capacity}`);
  }

  get size(): number {
    return this.times.length;
  }

  /** The newest snapshot's time, or undefined when empty. */
  get newest(): number | undefined {
    return this.times[this.times.length - 1];
  }

  get oldest(): number | undefined {
    return this.times[0];
  }

  /**
   * Adds a snapshot of `time`. A late one goes where its time says; one with the time of a snapshot held
   * replaces it; one older than everything held when the buffer is full is refused (returns false), as is
   * a time that is not finite.
   */
  push(time: number, value: T): boolean {
    if (!Number.isFinite(time)) return false;
    const times = this.times;
    let i = times.length;
    while (i > 0 && times[i - 1]! > time) i--;
    if (i > 0 && times[i - 1] === time) {
      this.values[i - 1] = value;
      return true;
    }
    if (times.length >= this.capacity) {
      if (i === 0) return false;
      times.shift();
      this.values.shift();
      i--;
    }
    times.splice(i, 0, time);
    this.values.splice(i, 0, value);
    return true;
  }

  /**
   * The value at `time`: interpolated between the snapshots around it; the oldest before the history; past
   * the newest, extrapolated from the last two for at most `maxExtrapolation` ms (0: the newest is held).
   * Undefined when empty. `last` says what was read.
   */
  at(time: number, interpolate: Interpolate<T>, maxExtrapolation = 0): T | undefined {
    const times = this.times;
    const n = times.length;
    const info = this.last;
    if (n === 0) return undefined;
    info.beyond = 0;
    info.extrapolated = false;
    if (n === 1 || time <= times[0]!) {
      // One snapshot, or a time before the history: the first is held.
      info.from = info.to = times[0]!;
      info.alpha = 0;
      info.beyond = Math.max(0, time - times[0]!);
      return this.values[0];
    }
    if (time >= times[n - 1]!) {
      info.beyond = time - times[n - 1]!;
      if (maxExtrapolation <= 0 || info.beyond === 0) {
        info.from = info.to = times[n - 1]!;
        info.alpha = 0;
        return this.values[n - 1];
      }
      const a = times[n - 2]!;
      const b = times[n - 1]!;
      const ahead = Math.min(info.beyond, maxExtrapolation);
      info.from = a;
      info.to = b;
      info.alpha = (b - a + ahead) / (b - a);
      info.extrapolated = true;
      return interpolate(this.values[n - 2]!, this.values[n - 1]!, info.alpha);
    }
    // Binary search: the last snapshot at or before `time`.
    let lo = 0;
    let hi = n - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! <= time) lo = mid;
      else hi = mid;
    }
    const a = times[lo]!;
    const b = times[hi]!;
    info.from = a;
    info.to = b;
    info.alpha = (time - a) / (b - a);
    return info.alpha === 0 ? this.values[lo] : interpolate(this.values[lo]!, this.values[hi]!, info.alpha);
  }

  /** The snapshot of exactly `time`, if held. */
  get(time: number): T | undefined {
    const i = this.times.indexOf(time);
    return i < 0 ? undefined : this.values[i];
  }

  /** Snapshots newer than `time` (a client's buffer depth ahead of its render time). */
  countAfter(time: number): number {
    let c = 0;
    for (let i = this.times.length - 1; i >= 0 && this.times[i]! > time; i--) c++;
    return c;
  }

  /**
   * Forgets snapshots no longer needed to sample at `time` or later: it keeps the last `keep` at or before it
   * (default 1, what interpolation needs; 2 also lets extrapolation past the newest work).
   */
  dropBefore(time: number, keep = 1): void {
    let atOrBefore = 0;
    while (atOrBefore < this.times.length && this.times[atOrBefore]! <= time) atOrBefore++;
    const drop = atOrBefore - Math.max(1, keep);
    if (drop > 0) {
      this.times.splice(0, drop);
      this.values.splice(0, drop);
    }
  }

  clear(): void {
    this.times.length = 0;
    this.values.length = 0;
  }
}
