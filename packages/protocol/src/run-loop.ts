/**
 * The loop a host runs around an endpoint (the server's and the client's alike): after any input the host calls
 * `schedule()`, and `step` runs once the current task is done, so that everything sent or received meanwhile
 * goes together; `step` returns the endpoint's next deadline, and one timer is armed for it. The host's event
 * loop comes in as `LoopTimers` (this package has no timers or clock of its own).
 */

export interface LoopTimers {
  /** The host's clock, ms (the endpoint's time). */
  now(): number;
  /** Runs `run` once the current task is done (queueMicrotask). */
  microtask(run: () => void): void;
  /** Runs `run` in `ms` ms (≤ 0: as soon as the host likes, e.g. after pending I/O); returns what cancels it. */
  after(ms: number, run: () => void): () => void;
}

export class RunLoop {
  private queued = false;
  private armedFor = Infinity;
  private cancel: (() => void) | undefined;

  constructor(
    /** Does the endpoint's work at `now`; returns its next deadline (Infinity: none). */
    private readonly step: (now: number) => number,
    private readonly timers: LoopTimers,
  ) {}

  /** Runs `step` once the current task is done (once, however often this is called before then). */
  schedule(): void {
    if (this.queued) return;
    this.queued = true;
    this.timers.microtask(() => {
      this.queued = false;
      this.runNow();
    });
  }

  /** Runs `step` now and arms the timer for the deadline it returns. */
  runNow(): void {
    this.arm(this.step(this.timers.now()));
  }

  /** Cancels the timer (a later schedule() or runNow() arms it again). */
  disarm(): void {
    this.cancel?.();
    this.cancel = undefined;
    this.armedFor = Infinity;
  }

  private arm(next: number): void {
    if (next === this.armedFor && this.cancel) return;
    this.disarm();
    this.armedFor = next;
    if (next === Infinity) return;
    this.cancel = this.timers.after(Math.ceil(next - this.timers.now()), () => {
      this.cancel = undefined;
      this.armedFor = Infinity;
      this.runNow();
    });
  }
}
