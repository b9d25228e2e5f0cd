/** The host loop both SDKs run around their endpoint, driven here by a hand-made event loop. */

import { describe, expect, it } from 'vitest';
import { RunLoop, type LoopTimers } from '../src/index.js';

/** A tiny event loop: microtasks, then timers in time order. */
class FakeLoop implements LoopTimers {
  t = 0;
  private micro: (() => void)[] = [];
  private timers: { at: number; run: () => void; live: boolean }[] = [];
  now = (): number => this.t;
  microtask = (run: () => void): void => void this.micro.push(run);
  after = (ms: number, run: () => void): (() => void) => {
    const timer = { at: this.t + Math.max(0, ms), run, live: true };
    this.timers.push(timer);
    return () => (timer.live = false);
  };
  get armed(): number {
    return this.timers.filter((x) => x.live).length;
  }
  drainMicrotasks(): void {
    while (this.micro.length) this.micro.shift()!();
  }
  /** Advances to `to`, firing every live timer due by then (and the microtasks they queue). */
  advance(to: number): void {
    for (;;) {
      const due = this.timers.filter((x) => x.live && x.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      due.live = false;
      this.t = due.at;
      due.run();
      this.drainMicrotasks();
    }
    this.t = to;
  }
}

describe('RunLoop', () => {
  it('runs once per task however often it is scheduled, and arms one timer for the deadline step returns', () => {
    const host = new FakeLoop();
    const runs: number[] = [];
    let deadline = 50;
    const loop = new RunLoop((now) => {
      runs.push(now);
      return deadline;
    }, host);
    for (let i = 0; i < 5; i++) loop.schedule();
    expect(runs).toEqual([]);
    host.drainMicrotasks();
    expect(runs).toEqual([0]);
    expect(host.armed).toBe(1);
    loop.schedule();
    host.drainMicrotasks();
    expect(host.armed).toBe(1); // the same deadline: the timer is kept, not made again
    deadline = Infinity;
    host.advance(50);
    expect(runs).toEqual([0, 0, 50]);
    expect(host.armed).toBe(0); // nothing more to do: no timer
  });

  it('re-arms for an earlier deadline, and disarm() cancels until the next run', () => {
    const host = new FakeLoop();
    const runs: number[] = [];
    const deadlines = [100, 20, 60];
    const loop = new RunLoop((now) => {
      runs.push(now);
      return deadlines.shift() ?? Infinity;
    }, host);
    loop.runNow(); // → 100
    loop.runNow(); // → 20 replaces it
    expect(host.armed).toBe(1);
    host.advance(30);
    expect(runs).toEqual([0, 0, 20]); // and that run asked for 60
    loop.disarm();
    host.advance(200);
    expect(runs).toEqual([0, 0, 20]);
    loop.schedule();
    host.drainMicrotasks();
    expect(runs).toEqual([0, 0, 20, 200]);
  });
});
