/**
 * The server's clock as a game should read it (docs/netcode.md): `room.serverTime()` is the local clock plus
 * the estimated offset, and the estimate moves when a better ping sample comes in. ServerClock follows it
 * without ever going back and without jumps: small differences are absorbed at most `slew` ms per ms
 * (the clock runs at most that much faster or slower), a difference past `snap` ms is taken at once.
 */

export interface ServerClockOptions {
  /** Most the clock's rate differs from real time while it catches up (default 0.05). */
  slew?: number;
  /** A difference larger than this (ms) is taken at once, forward only (default 250). */
  snap?: number;
}

export class ServerClock {
  private readonly slew: number;
  private readonly snap: number;
  private value: number | undefined;
  private at = 0;

  constructor(
    private readonly source: () => number,
    private readonly local: () => number,
    options: ServerClockOptions = {},
  ) {
    this.slew = options.slew ?? 0.05;
    this.snap = options.snap ?? 250;
    if (!(this.slew > 0 && this.slew < 1) || !(this.snap > 0)) throw new RangeError('slew must be in (0, 1) and snap > 0');
  }

  /** The server's time now, ms: monotonic, within `snap` of the estimate. */
  now(): number {
    const target = this.source();
    const localNow = this.local();
    if (this.value === undefined || target - this.value > this.snap + (localNow - this.at)) {
      this.value = Math.max(this.value ?? -Infinity, target);
      this.at = localNow;
      return this.value;
    }
    const elapsed = Math.max(0, localNow - this.at);
    this.at = localNow;
    const free = this.value + elapsed; // where it would be at the real rate
    const d = target - free;
    const step = Math.min(Math.abs(d), this.slew * elapsed);
    this.value = Math.max(this.value, free + Math.sign(d) * step);
    return this.value;
  }

  /** The server tick being simulated now, for a simulation of `tickMs` per tick. */
  tick(tickMs: number): number {
    return Math.floor(this.now() / tickMs);
  }
}
