/**
 * A fixed-rate ticker on absolute times (tick i is due at start + i × period, so timer lateness never adds
 * up), bounded in count; stop() ends it at once. `done` resolves after the last tick or the stop.
 */

import { performance } from 'node:perf_hooks';

export class Ticker {
  readonly done: Promise<void>;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finish: () => void = () => {};
  private i = 0;
  private stopped = false;
  private readonly start = performance.now();

  constructor(
    private readonly periodMs: number,
    private readonly count: number,
    private readonly onTick: (i: number) => void,
  ) {
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.tick();
  }

  /** Ticks run so far. */
  get ticks(): number {
    return this.i;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.finish();
  }

  private tick(): void {
    this.timer = undefined;
    if (this.i >= this.count) return this.finish();
    this.onTick(this.i++);
    if (this.stopped) return;
    if (this.i >= this.count) return this.finish();
    const due = this.start + this.i * this.periodMs;
    this.timer = setTimeout(() => this.tick(), Math.max(0, due - performance.now()));
  }
}
