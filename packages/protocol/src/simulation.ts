/**
 * Simulation: drives two sans-I/O endpoints against each other over a LinkSimulator in simulated
 * time. It jumps from event to event (timeouts, arrivals, scheduled actions), never sleeps.
 */

import type { LinkSimulator } from './link-simulator.js';
import { TimeHeap } from './time-heap.js';

/**
 * Anything sans-I/O: fed datagrams and time, polled for datagrams, asked when to wake.
 * The protocol's Connection satisfies this.
 */
export interface SimEndpoint {
  /** A datagram arrived at `now`. */
  handle(datagram: Uint8Array, now: number): void;
  /** Datagrams to send now. */
  poll(now: number): Uint8Array[];
  /** Absolute ms when it next needs poll() without input; Infinity if never. */
  nextTimeout(): number;
}

export interface SimulationOptions {
  /** Simulated start time in ms. Default 0. */
  start?: number;
  /** Safety bound on the steps of each run call (a step = one visit to a point in time). Default 10_000_000. */
  maxSteps?: number;
}

/**
 * Runs endpoint `a` and endpoint `b` over `link`: what `a` polls goes 'a-to-b' and arrives at
 * `b.handle`, and the other way round. Each step goes to the earliest of: either endpoint's
 * `nextTimeout()`, the link's next arrival, the next scheduled action and the run's target (never
 * backwards); there it runs the due actions, delivers the due datagrams, then polls `a` and `b` and
 * puts their output on the link.
 *
 * @example
 * const sim = new Simulation(server, client, new LinkSimulator({ seed: 7, conditions: { latency: 30 } }));
 * sim.at(100, (now) => client.send(now, bytes));
 * sim.runUntil(1_000);
 */
export class Simulation {
  private time: number;
  private readonly maxSteps: number;
  private readonly actions = new TimeHeap<(now: number) => void>();

  /** @throws RangeError for a non-finite `start` or a `maxSteps` that is not a positive integer. */
  constructor(
    private readonly a: SimEndpoint,
    private readonly b: SimEndpoint,
    private readonly link: LinkSimulator,
    options: SimulationOptions = {},
  ) {
    this.time = options.start ?? 0;
    this.maxSteps = options.maxSteps ?? 10_000_000;
    if (!Number.isFinite(this.time)) throw new RangeError(`Simulation: start must be a finite number, got ${this.time}`);
    if (!Number.isInteger(this.maxSteps) || this.maxSteps < 1) {
      throw new RangeError(`Simulation: maxSteps must be a positive integer, got ${this.maxSteps}`);
    }
  }

  /** Current simulated time, ms. */
  get now(): number {
    return this.time;
  }

  /**
   * Schedule an action at absolute simulated time `time` (ties: in scheduling order); a time in the
   * past runs at the current time. After the actions due at a step run, both endpoints are polled.
   */
  at(time: number, action: (now: number) => void): void {
    if (!Number.isFinite(time)) throw new RangeError(`Simulation.at: time must be a finite number, got ${time}`);
    this.actions.push(Math.max(time, this.time), action);
  }

  /**
   * Advance to exactly `time`, processing every event on the way and everything due at `time`
   * (the endpoints are polled at `time` at least once).
   * @throws RangeError if `time` is before `now` or not finite; Error past `maxSteps`.
   */
  runUntil(time: number): void {
    this.run(time, 'runUntil', undefined);
  }

  /**
   * Advance while `predicate()` is true (checked before every step), at most until `deadline`.
   * @returns true if the predicate became false, false if the deadline came first.
   * @throws RangeError if `deadline` is before `now` or not finite; Error past `maxSteps`.
   */
  runWhile(predicate: () => boolean, deadline: number): boolean {
    return this.run(deadline, 'runWhile', predicate);
  }

  private run(target: number, method: string, predicate: (() => boolean) | undefined): boolean {
    if (!Number.isFinite(target) || target < this.time) {
      throw new RangeError(`Simulation.${method}: time must be finite and not before now (${this.time}), got ${target}`);
    }
    for (let steps = 0; ; steps++) {
      if (predicate !== undefined && !predicate()) return true;
      if (steps > 0 && this.time === target && this.nextEventTime() > target) return false;
      if (steps >= this.maxSteps) {
        throw new Error(
          `Simulation.${method}: exceeded maxSteps (${this.maxSteps}) at t=${this.time}; ` +
            'an endpoint probably keeps asking to be woken at or before the current time',
        );
      }
      this.step(target);
    }
  }

  private nextEventTime(): number {
    const ta = this.a.nextTimeout();
    const tb = this.b.nextTimeout();
    if (Number.isNaN(ta) || Number.isNaN(tb))
      throw new Error(`Simulation: endpoint ${Number.isNaN(ta) ? 'a' : 'b'} returned NaN from nextTimeout()`);
    return Math.min(ta, tb, this.link.nextDeliveryTime(), this.actions.peekTime());
  }

  private step(target: number): void {
    const now = (this.time = Math.max(this.time, Math.min(this.nextEventTime(), target)));
    while (this.actions.peekTime() <= now) this.actions.pop()(now);
    for (const { direction, datagram } of this.link.deliver(now)) {
      (direction === 'a-to-b' ? this.b : this.a).handle(datagram, now);
    }
    for (const d of this.a.poll(now)) this.link.send('a-to-b', d, now);
    for (const d of this.b.poll(now)) this.link.send('b-to-a', d, now);
  }
}
