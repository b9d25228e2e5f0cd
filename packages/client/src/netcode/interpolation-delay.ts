/**
 * How far behind the server's clock a client renders the others (docs/netcode.md): the time snapshots take
 * to arrive, plus one snapshot interval, plus a multiple of the jitter of their arrival, adapted as the link
 * changes. Arrival times are on the same clock the render uses (the server's, as the client estimates it:
 * `room.serverTime()` when the snapshot arrived), so transit = arrival − the snapshot's server time is the
 * one-way delay (plus whatever error the clock estimate has, which the render shares). Jitter is RFC 3550's:
 * the smoothed change in transit from one snapshot to the next. A gap between arrivals (a burst of losses,
 * resent later) raises the target to cover it, and decays. The delay moves towards its target gradually (at
 * most `slew` ms per ms: the render's clock runs at most that much faster or slower), so the render never
 * jumps. A hold longer than `maxDelay` (a stall of a second or more) stretches the delay past it; that excess
 * is caught up faster, at `catchUp` ms per ms (the render runs at most 1 + catchUp times real time), and only
 * a hold past twice `maxDelay` is cut short: the render jumps by what lies beyond that.
 */

export interface InterpolationDelayOptions {
  /** Snapshots' expected interval, ms (a room's patch rate; default 50). */
  interval?: number;
  /** Delay = transit + max(interval + jitterMultiplier × jitter, recent gap) (default 2.5). */
  jitterMultiplier?: number;
  /** Clamp of the whole delay, ms (defaults: the interval, and 1000). */
  minDelay?: number;
  maxDelay?: number;
  /** Most the delay changes per ms of elapsed time (default 0.05: the render runs 5 % faster or slower). */
  slew?: number;
  /** How fast a delay stretched past `maxDelay` comes back to it, ms per ms (default 1: the render at twice real time). */
  catchUp?: number;
}

export class InterpolationDelay {
  readonly interval: number;
  private readonly multiplier: number;
  private readonly min: number;
  private readonly max: number;
  private readonly slew: number;
  private readonly catchUp: number;
  private jitterMs = 0;
  private transitMs: number | undefined;
  private lastTransit: number | undefined;
  private lastServerTime = -Infinity;
  private lastArrival: number | undefined;
  /** The largest gap between arrivals lately (decays 5 % per snapshot). */
  private gap = 0;
  private delay: number | undefined;
  private at: number | undefined;

  constructor(options: InterpolationDelayOptions = {}) {
    this.interval = positive('interval', options.interval ?? 50);
    this.multiplier = positive('jitterMultiplier', options.jitterMultiplier ?? 2.5, true);
    this.min = positive('minDelay', options.minDelay ?? this.interval, true);
    this.max = positive('maxDelay', options.maxDelay ?? 1000);
    this.slew = positive('slew', options.slew ?? 0.05);
    this.catchUp = positive('catchUp', options.catchUp ?? 1);
    if (this.min > this.max) throw new RangeError(`minDelay ${this.min} is above maxDelay ${this.max}`);
  }

  /** A snapshot of server time `serverTime` arrived at `arrival` (the render's clock, ms). Older snapshots count for nothing. */
  observe(serverTime: number, arrival: number): void {
    if (!Number.isFinite(serverTime) || !Number.isFinite(arrival) || serverTime <= this.lastServerTime) return;
    this.lastServerTime = serverTime;
    const transit = arrival - serverTime;
    if (this.lastTransit !== undefined) this.jitterMs += (Math.abs(transit - this.lastTransit) - this.jitterMs) / 16;
    this.lastTransit = transit;
    this.transitMs = this.transitMs === undefined ? transit : this.transitMs + (transit - this.transitMs) / 16;
    if (this.lastArrival !== undefined) this.gap = Math.max(arrival - this.lastArrival, this.gap * 0.95);
    this.lastArrival = arrival;
  }

  /** The smoothed jitter of arrivals, ms. */
  get jitter(): number {
    return this.jitterMs;
  }

  /** The smoothed transit time (arrival − server time), ms; 0 before the first snapshot. */
  get transit(): number {
    return this.transitMs ?? 0;
  }

  /** Where the delay is heading. */
  get target(): number {
    const wanted = this.transit + Math.max(this.interval + this.multiplier * this.jitterMs, this.gap);
    return Math.min(this.max, Math.max(this.min, wanted));
  }

  /**
   * The delay to render with at local time `now` (ms): the target at first, then moved towards it by at most
   * slew × elapsed (catchUp × elapsed for the part above maxDelay).
   */
  current(now: number): number {
    const target = this.target;
    if (this.delay === undefined || this.at === undefined || this.transitMs === undefined) {
      this.at = now;
      return (this.delay = target);
    }
    let elapsed = Math.max(0, now - this.at);
    this.at = now;
    if (this.delay > this.max) {
      const excess = this.delay - this.max;
      const spent = Math.min(elapsed, excess / this.catchUp);
      this.delay -= spent * this.catchUp;
      elapsed -= spent;
      if (this.delay - this.max < 1e-9) this.delay = this.max;
    }
    const step = this.slew * elapsed;
    if (this.delay < target) this.delay = Math.min(target, this.delay + step);
    else if (this.delay > target) this.delay = Math.max(target, this.delay - step);
    return this.delay;
  }

  /**
   * The render had to wait (no snapshot far enough ahead): the delay is now at least `delay` (at most twice
   * maxDelay), and comes back to the target once snapshots flow again: at the catch-up rate down to maxDelay,
   * then at the slew rate.
   */
  stretch(delay: number): void {
    if (this.delay !== undefined && Number.isFinite(delay)) this.delay = Math.min(2 * this.max, Math.max(this.delay, delay));
  }
}

function positive(name: string, v: number, zeroOk = false): number {
  if (!Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
    throw new RangeError(`${name} must be a ${zeroOk ? 'non-negative' : 'positive'} number, got ${v}`);
  }
  return v;
}
