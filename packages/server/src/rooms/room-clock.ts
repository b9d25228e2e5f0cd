/**
 * A room's clock: its time since it was created, and timers that die with the room (every one still pending
 * is cancelled when the room is disposed, so a room's callbacks never run after onDispose).
 *
 *   this.clock.setTimeout(() => this.startRound(), 3000);
 *   const tick = this.clock.setInterval(() => this.spawn(), 1000); … tick.clear();
 */

import type { RoomEnvironment } from './room-environment.js';

export interface ClockTimer {
  /** Cancels the timer (no effect once it ran, for a timeout). */
  clear(): void;
}

export class RoomClock {
  /** The server's clock when the room was created, ms. */
  readonly startTime: number;
  private readonly timers = new Set<() => void>();

  /** @internal created by the room's runtime */
  constructor(
    private readonly env: RoomEnvironment,
    private readonly onError: (e: unknown) => void,
  ) {
    this.startTime = env.now();
  }

  /** The server's clock now, ms. */
  get currentTime(): number {
    return this.env.now();
  }

  /** Ms since the room was created. */
  get elapsedTime(): number {
    return this.env.now() - this.startTime;
  }

  /** Runs `run` once after `ms`. */
  setTimeout(run: () => void, ms: number): ClockTimer {
    const cancel = this.env.after(Math.max(0, ms), () => {
      this.timers.delete(clear);
      this.safely(run);
    });
    const clear = (): void => {
      cancel();
      this.timers.delete(clear);
    };
    this.timers.add(clear);
    return { clear };
  }

  /** Runs `run` every `ms` (at least 1), until cleared or the room is disposed. */
  setInterval(run: () => void, ms: number): ClockTimer {
    const period = Math.max(1, ms);
    let cancel: (() => void) | undefined;
    let next = this.env.now() + period;
    const clear = (): void => {
      cancel?.();
      cancel = undefined;
      this.timers.delete(clear);
    };
    const arm = (): void => {
      cancel = this.env.after(Math.max(0, next - this.env.now()), () => {
        next += period;
        // Late (a long task held the loop): skip the missed runs rather than fire them back to back.
        if (next <= this.env.now()) next = this.env.now() + period;
        arm();
        this.safely(run);
      });
    };
    arm();
    this.timers.add(clear);
    return { clear };
  }

  /** @internal Cancels every pending timer (the room is being disposed). */
  clear(): void {
    for (const clear of [...this.timers]) clear();
  }

  private safely(run: () => void): void {
    try {
      run();
    } catch (e) {
      this.onError(e);
    }
  }
}
