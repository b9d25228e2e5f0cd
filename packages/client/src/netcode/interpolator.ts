/**
 * Snapshot interpolation (docs/netcode.md): the others' entities drawn where they were `delay` ms ago on the
 * server's clock, between the two snapshots around that time, so they move smoothly whatever the arrival
 * jitter. The delay adapts (InterpolationDelay). When snapshots stop coming (a burst of losses), the render
 * goes on past the newest, extrapolating, for at most `maxExtrapolation` ms, and then waits there: the delay
 * stretches, so when the snapshots come back the motion resumes where it stopped, at its normal pace, and
 * the delay shrinks back to its target slowly (faster for a stall longer than maxDelay: InterpolationDelay). Where the extrapolation was wrong (the entity turned), the
 * drawn value blends from the extrapolated track to the right one over `smoothing` ms instead of snapping
 * (projective blending: both tracks move on meanwhile). The render time never goes back.
 */

import { SnapshotBuffer, type Interpolate } from '@volley/protocol';
import { InterpolationDelay, type InterpolationDelayOptions } from './interpolation-delay.js';

export interface InterpolatorOptions extends InterpolationDelayOptions {
  /** Snapshots kept (default 32). */
  capacity?: number;
  /** Longest extrapolation past the newest snapshot, ms (default: two intervals; 0: hold). */
  maxExtrapolation?: number;
  /** How long the drawn value takes to blend back from a wrong extrapolation, ms (default 200; 0: snap). */
  smoothing?: number;
}

export interface InterpolatorStats {
  /** The delay rendered with, its target, and the arrival's transit and jitter, ms. */
  delay: number;
  target: number;
  transit: number;
  jitter: number;
  /** Snapshots newer than the render time (the buffer's depth). */
  depth: number;
  /** How far the render time was past the newest snapshot at the last sample, ms (0: inside the buffer). */
  beyond: number;
  /** Samples that ran past the newest snapshot (extrapolated or held), since creation. */
  underruns: number;
}

export class Interpolator<T> {
  readonly buffer: SnapshotBuffer<T>;
  readonly delay: InterpolationDelay;
  readonly stats: InterpolatorStats = { delay: 0, target: 0, transit: 0, jitter: 0, depth: 0, beyond: 0, underruns: 0 };
  private readonly maxExtrapolation: number;
  private readonly smoothing: number;
  private renderTime = -Infinity;
  /** The two snapshots the last extrapolation ran on (the wrong track to blend from), and when blending started. */
  private track: { t0: number; v0: T; t1: number; v1: T } | undefined;
  private wasExtrapolating = false;
  private blendFrom = -Infinity;

  constructor(
    private readonly interpolate: Interpolate<T>,
    options: InterpolatorOptions = {},
  ) {
    this.delay = new InterpolationDelay(options);
    this.buffer = new SnapshotBuffer<T>(options.capacity ?? 32);
    this.maxExtrapolation = options.maxExtrapolation ?? 2 * this.delay.interval;
    this.smoothing = options.smoothing ?? 200;
    if (!(this.maxExtrapolation >= 0) || !(this.smoothing >= 0)) throw new RangeError('maxExtrapolation and smoothing must be ≥ 0');
  }

  /**
   * A snapshot: its time on the server's clock (what the state says, ms), its value, and when it arrived on
   * the clock `sample` is given (`room.serverTime()` at arrival).
   */
  push(serverTime: number, value: T, arrival: number): void {
    if (this.buffer.push(serverTime, value)) this.delay.observe(serverTime, arrival);
  }

  /** The time being drawn, on the server's clock (−Infinity before the first sample). */
  get time(): number {
    return this.renderTime;
  }

  /**
   * The value to draw now: `serverNow` is the server's clock now (`room.serverTime()`), `localNow` the local
   * clock (`performance.now()`, for the pace of changes). Undefined until the first snapshot.
   */
  sample(serverNow: number, localNow: number): T | undefined {
    let delay = this.delay.current(localNow);
    const buffer = this.buffer;
    let render = serverNow - delay;
    const newest = buffer.newest;
    if (newest !== undefined && render > newest + this.maxExtrapolation) {
      // Nothing that far yet: wait at the edge, and render later from now on.
      render = newest + this.maxExtrapolation;
      this.delay.stretch(serverNow - Math.max(render, this.renderTime));
      delay = Math.max(delay, serverNow - Math.max(render, this.renderTime));
    }
    this.renderTime = Math.max(this.renderTime, render);
    const time = this.renderTime;
    let value = buffer.at(time, this.interpolate, this.maxExtrapolation);
    const info = buffer.last;
    if (info.beyond > 0) this.stats.underruns++;
    if (info.extrapolated) {
      const v0 = buffer.get(info.from);
      const v1 = buffer.get(info.to);
      if (v0 !== undefined && v1 !== undefined) this.track = { t0: info.from, v0, t1: info.to, v1 };
      this.wasExtrapolating = true;
    } else if (this.wasExtrapolating) {
      this.wasExtrapolating = false;
      this.blendFrom = localNow;
    }
    const track = this.track;
    if (value !== undefined && track !== undefined && !info.extrapolated) {
      const linear = this.smoothing > 0 ? (localNow - this.blendFrom) / this.smoothing : 1;
      const w = linear >= 1 ? 1 : linear * linear * (3 - 2 * linear); // smoothstep: no kink at either end
      if (w >= 1) this.track = undefined;
      else {
        const wrong = this.interpolate(track.v0, track.v1, (time - track.t0) / (track.t1 - track.t0));
        value = this.interpolate(wrong, value, Math.max(0, w));
      }
    }
    buffer.dropBefore(time, 2);
    const s = this.stats;
    s.delay = delay;
    s.target = this.delay.target;
    s.transit = this.delay.transit;
    s.jitter = this.delay.jitter;
    s.depth = buffer.countAfter(this.renderTime);
    s.beyond = buffer.last.beyond;
    return value;
  }
}
