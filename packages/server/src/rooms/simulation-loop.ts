/**
 * A room's fixed-step simulation: `step(dt)` runs every `interval` ms of the server's clock with the same
 * `dt` every time, so a game's physics is deterministic whatever the timers' jitter. A late timer is caught
 * up by running the missed steps back to back, at most `maxCatchUp` of them; past that the backlog is
 * dropped (and counted) rather than spiralling. The loop also measures itself: how long steps take, how
 * many ran late, how many were dropped — the room's "tick health".
 */

import type { RoomEnvironment } from './room-environment.js';

export interface TickHealth {
  /** Steps run. */
  steps: number;
  /** Steps dropped because the loop fell more than maxCatchUp steps behind. */
  dropped: number;
  /** Timer firings that had to run more than one step. */
  lateRuns: number;
  /** Duration of the last step, ms. */
  lastStepMs: number;
  /** The longest step of the last 256, ms. */
  maxStepMs: number;
}

const WINDOW = 256;

export class SimulationLoop {
  private cancel: (() => void) | undefined;
  private next: number;
  private readonly durations = new Float64Array(WINDOW);
  readonly health: TickHealth = { steps: 0, dropped: 0, lateRuns: 0, lastStepMs: 0, maxStepMs: 0 };

  constructor(
    private readonly env: RoomEnvironment,
    private readonly step: (dt: number) => void,
    readonly interval: number,
    private readonly onError: (e: unknown) => void,
    private readonly maxCatchUp = 4,
  ) {
    if (!(interval > 0) || !Number.isFinite(interval)) throw new RangeError(`simulation interval must be > 0 ms, got ${interval}`);
    this.next = env.now() + interval;
    this.arm();
  }

  /** The durations (ms) of the last steps, up to 256, oldest first: a copy. */
  recentSteps(): number[] {
    const n = Math.min(this.health.steps, WINDOW);
    const out: number[] = [];
    for (let i = this.health.steps - n; i < this.health.steps; i++) out.push(this.durations[i % WINDOW]!);
    return out;
  }

  stop(): void {
    this.cancel?.();
    this.cancel = undefined;
  }

  private arm(): void {
    this.cancel = this.env.after(Math.max(0, this.next - this.env.now()), () => this.run());
  }

  private run(): void {
    let due = Math.floor((this.env.now() - this.next) / this.interval) + 1;
    if (due > 1) this.health.lateRuns++;
    if (due > this.maxCatchUp) {
      this.health.dropped += due - this.maxCatchUp;
      this.next += (due - this.maxCatchUp) * this.interval;
      due = this.maxCatchUp;
    }
    for (let i = 0; i < due && this.cancel; i++) {
      const started = this.env.now();
      try {
        this.step(this.interval);
      } catch (e) {
        this.onError(e);
      }
      const took = this.env.now() - started;
      const h = this.health;
      this.durations[h.steps % WINDOW] = took;
      h.steps++;
      h.lastStepMs = took;
      h.maxStepMs = Math.max(...this.durations.subarray(0, Math.min(h.steps, WINDOW)));
      this.next += this.interval;
    }
    if (this.cancel) this.arm();
  }
}
