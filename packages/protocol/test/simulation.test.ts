import { describe, expect, it } from 'vitest';
import { LinkSimulator, type LinkConditions } from '../src/link-simulator.js';
import { Simulation, type SimEndpoint } from '../src/simulation.js';

/** Test fixture: records what arrives and the times it is called at; sends what is put in `outbox`. */
class Recorder implements SimEndpoint {
  readonly received: Array<[number, number]> = []; // [time, first byte]
  readonly times: number[] = [];
  outbox: Uint8Array[] = [];
  wakeAt = Infinity;

  handle(datagram: Uint8Array, now: number): void {
    this.times.push(now);
    this.received.push([now, datagram[0]!]);
  }

  poll(now: number): Uint8Array[] {
    this.times.push(now);
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  nextTimeout(): number {
    return this.wakeAt;
  }
}

/** Replies to every datagram with the same bytes. */
class Echo extends Recorder {
  override handle(datagram: Uint8Array, now: number): void {
    super.handle(datagram, now);
    this.outbox.push(datagram);
  }
}

/** Sends datagram 0, 1, 2, ... every `period` ms from t=0, using its timer. */
class Ticker extends Recorder {
  private sent = 0;
  constructor(private readonly period: number) {
    super();
    this.wakeAt = 0;
  }

  override poll(now: number): Uint8Array[] {
    while (now >= this.wakeAt) {
      this.outbox.push(Uint8Array.of(this.sent++));
      this.wakeAt += this.period;
    }
    return super.poll(now);
  }
}

/** Its timer fires once, then is cleared. */
class OneShot extends Recorder {
  override poll(now: number): Uint8Array[] {
    if (now >= this.wakeAt) this.wakeAt = Infinity;
    return super.poll(now);
  }
}

const link = (conditions: LinkConditions = {}, seed = 1) => new LinkSimulator({ seed, conditions });

describe('Simulation', () => {
  it('wakes an endpoint on its timer and carries its datagrams over the link', () => {
    const ticker = new Ticker(100);
    const sink = new Recorder();
    const sim = new Simulation(ticker, sink, link({ latency: 30 }));
    sim.runUntil(1000);
    expect(sim.now).toBe(1000);
    expect(sink.received).toEqual([...Array(10).keys()].map((i) => [i * 100 + 30, i]));
  });

  it('delivers replies the other way: a round trip takes twice the latency', () => {
    const a = new Recorder();
    const b = new Echo();
    const sim = new Simulation(a, b, link({ latency: 25 }));
    sim.at(100, () => a.outbox.push(Uint8Array.of(7)));
    sim.at(130, () => a.outbox.push(Uint8Array.of(8)));
    sim.runUntil(500);
    expect(b.received).toEqual([
      [125, 7],
      [155, 8],
    ]);
    expect(a.received).toEqual([
      [150, 7],
      [180, 8],
    ]);
  });

  it('runs actions in time order, ties in scheduling order, a past time at the current time', () => {
    const order: Array<[string, number]> = [];
    const sim = new Simulation(new Recorder(), new Recorder(), link(), { start: 1000 });
    expect(sim.now).toBe(1000);
    sim.at(1200, (now) => order.push(['c', now]));
    sim.at(1100, (now) => {
      order.push(['a', now]);
      sim.at(1100, (t) => order.push(['a2', t]));
    });
    sim.at(1100, (now) => order.push(['b', now]));
    sim.at(5, (now) => order.push(['past', now]));
    sim.runUntil(1150);
    expect(sim.now).toBe(1150);
    expect(order).toEqual([
      ['past', 1000],
      ['a', 1100],
      ['b', 1100],
      ['a2', 1100],
    ]);
    sim.runUntil(1300);
    expect(order.at(-1)).toEqual(['c', 1200]);
  });

  it('polls the endpoints right after an action, at the same time', () => {
    const a = new Recorder();
    const b = new Recorder();
    const sim = new Simulation(a, b, link());
    sim.at(42, () => a.outbox.push(Uint8Array.of(1)));
    sim.runUntil(100);
    expect(b.received).toEqual([[42, 1]]); // zero latency: delivered at the same simulated time
  });

  it('never moves time backwards: a timeout in the past is served at the current time', () => {
    const a = new OneShot();
    const sim = new Simulation(a, new Recorder(), link());
    sim.runUntil(50);
    const before = a.times.length;
    a.wakeAt = 10; // stale
    sim.runUntil(100);
    expect(a.times.slice(before)).toEqual([50, 100]);

    const c = new Ticker(7);
    const d = new Echo();
    new Simulation(c, d, link({ latency: 3, jitter: 20, reorder: 0.2, duplicate: 0.1 })).runUntil(1000);
    expect(d.received.length).toBeGreaterThan(140);
    for (const times of [c.times, d.times]) expect(times).toEqual([...times].sort((x, y) => x - y));
    expect(Math.max(...c.times, ...d.times)).toBe(1000);
  });

  it('throws once maxSteps is exceeded instead of hanging', () => {
    const stuck = new Recorder();
    stuck.wakeAt = 0; // always asks to be woken at t=0, forever
    const sim = new Simulation(stuck, new Recorder(), link(), { maxSteps: 1000 });
    expect(() => sim.runUntil(10)).toThrow(/exceeded maxSteps \(1000\)/);
    expect(sim.now).toBe(0);

    const a = new Echo();
    const b = new Echo();
    const pingPong = new Simulation(a, b, link(), { maxSteps: 500 }); // zero-latency echo loop: endless at one instant
    pingPong.at(0, () => a.outbox.push(Uint8Array.of(1)));
    expect(() => pingPong.runWhile(() => true, 100)).toThrow(/maxSteps/);
  });

  it('runWhile stops when the predicate turns false, or at the deadline', () => {
    const sink = new Recorder();
    const sim = new Simulation(new Ticker(100), sink, link({ latency: 10 }));
    expect(sim.runWhile(() => sink.received.length < 3, 10_000)).toBe(true);
    expect(sim.now).toBe(210);
    expect(sim.runWhile(() => true, 450)).toBe(false);
    expect(sim.now).toBe(450);
    expect(sink.received).toHaveLength(5); // 10, 110, 210, 310, 410
    expect(sim.runWhile(() => false, 500)).toBe(true);
    expect(sim.now).toBe(450);
  });

  it('is reproducible from the link seed', () => {
    const go = (seed: number) => {
      const a = new Ticker(5);
      const b = new Echo();
      const sim = new Simulation(a, b, link({ loss: 0.2, latency: 20, jitter: 15, duplicate: 0.1, reorder: 0.1 }, seed));
      sim.runUntil(2000);
      return [a.received, b.received];
    };
    expect(go(3)).toEqual(go(3));
    expect(go(3)).not.toEqual(go(4));
  });

  it('validates its arguments', () => {
    const sim = new Simulation(new Recorder(), new Recorder(), link(), { start: 10 });
    expect(() => sim.runUntil(5)).toThrow(RangeError);
    expect(() => sim.runUntil(Infinity)).toThrow(RangeError);
    expect(() => sim.runWhile(() => true, Number.NaN)).toThrow(RangeError);
    expect(() => sim.at(Number.NaN, () => {})).toThrow(RangeError);
    expect(() => new Simulation(new Recorder(), new Recorder(), link(), { start: Number.NaN })).toThrow(/start/);
    expect(() => new Simulation(new Recorder(), new Recorder(), link(), { maxSteps: 0 })).toThrow(/maxSteps/);
    const bad = new Recorder();
    bad.wakeAt = Number.NaN;
    expect(() => new Simulation(new Recorder(), bad, link()).runUntil(10)).toThrow(/endpoint b .*NaN/);
  });
});
