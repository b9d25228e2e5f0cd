/**
 * Simulated time for the room layer: the clock, the timers and the randomness a testbed's rooms run on
 * (a RoomEnvironment). Nothing moves until the testbed advances it; the same seed gives the same ids.
 */

import { Random, randomBytes, TimeHeap } from '@volley/protocol';
import type { RoomEnvironment } from '@volley/server';

interface Timer {
  run: () => void;
  live: boolean;
}

export class SimScheduler implements RoomEnvironment {
  private time: number;
  private readonly timers = new TimeHeap<Timer>();
  private readonly random: Random;

  constructor(start: number, seed: number) {
    this.time = start;
    this.random = new Random(seed);
  }

  now(): number {
    return this.time;
  }

  after(ms: number, run: () => void): () => void {
    const t: Timer = { run, live: true };
    this.timers.push(this.time + Math.max(0, ms), t);
    return () => void (t.live = false);
  }

  randomBytes(n: number): Uint8Array {
    return randomBytes(this.random, n);
  }

  /** When the next live timer is due (Infinity: none). */
  nextTime(): number {
    while (this.timers.size > 0 && !this.timers.peek().live) this.timers.pop();
    return this.timers.peekTime();
  }

  /** @internal Moves the clock (never backwards). */
  moveTo(time: number): void {
    this.time = Math.max(this.time, time);
  }

  /** @internal Runs every timer due by now, in order; returns how many ran. */
  runDue(): number {
    let n = 0;
    while (this.timers.size > 0 && this.timers.peekTime() <= this.time) {
      const t = this.timers.pop();
      if (!t.live) continue;
      t.live = false;
      t.run();
      n++;
    }
    return n;
  }
}
