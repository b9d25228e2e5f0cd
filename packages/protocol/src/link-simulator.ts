/**
 * LinkSimulator: an impaired two-way datagram link in simulated time (loss, Gilbert–Elliott bursts,
 * latency, jitter, duplication, reordering, a bandwidth cap with a tail-drop queue, scripted drops).
 * No clocks and no Math.random: time is passed in and every random draw comes from `seed`.
 */

import { TimeHeap } from './time-heap.js';
import { Random } from './random.js';

/** Which way a datagram travels: endpoint a → b or b → a. */
export type LinkDirection = 'a-to-b' | 'b-to-a';

/** Impairments of one direction of the link. Every field is optional; the default is a perfect link. */
export interface LinkConditions {
  /** Independent loss probability per datagram, 0..1. Default 0. */
  loss?: number;
  /**
   * Gilbert–Elliott bursty loss. Before each datagram the direction moves good→bad with probability
   * `enter` or bad→good with probability `exit`; while bad, datagrams are lost with probability `loss`
   * (default 1). It starts good. `loss` above still applies on top, in both states.
   */
  burst?: { enter: number; exit: number; loss?: number };
  /** One-way base delay in ms. Default 0. */
  latency?: number;
  /** Extra delay drawn uniformly in [0, jitter) ms per datagram; may reorder datagrams naturally. Default 0. */
  jitter?: number;
  /** Probability a datagram is delivered twice; the copy gets its own jitter and reorder draws. Default 0. */
  duplicate?: number;
  /** Probability a datagram is held back by an extra `reorderDelay` so later ones overtake it. Default 0. */
  reorder?: number;
  /** Hold-back in ms for `reorder`. Default max(10, 2·jitter, latency/2). */
  reorderDelay?: number;
  /**
   * Bottleneck rate in bytes per second (payload bytes only); 0 or undefined = unlimited. Datagrams are
   * serialized one after another, so a burst queues and arrives spaced by size/bandwidth.
   */
  bandwidth?: number;
  /**
   * With `bandwidth`: a datagram arriving at a busy bottleneck is tail-dropped when the bytes not yet
   * serialized plus its own size exceed this. An idle bottleneck always accepts. Default 65536.
   */
  queueLimit?: number;
}

/** What a drop rule sees about a datagram. */
export interface DatagramInfo {
  direction: LinkDirection;
  /** The nth datagram sent in this direction, from 0 (dropped ones count too). */
  index: number;
  /** The datagram (the link's own copy). */
  bytes: Uint8Array;
  /** Send time, ms. */
  time: number;
}

/**
 * Scripted drop rule: return true to drop this datagram. Rules run in order before the random
 * impairments; the first that returns true drops it and later rules do not see it.
 * @example const outage: DropRule = (d) => d.time >= 1000 && d.time < 6000; // 5 s blackout
 */
export type DropRule = (datagram: DatagramInfo) => boolean;

/** One trace record per datagram sent, plus one per duplicate copy. `time` is the send time. */
export type LinkEvent =
  | { type: 'drop'; reason: 'loss' | 'burst' | 'rule' | 'queue'; direction: LinkDirection; index: number; time: number; size: number }
  | {
      type: 'pass';
      direction: LinkDirection;
      index: number;
      time: number;
      size: number;
      deliverAt: number;
      duplicate: boolean;
      reordered: boolean;
    };

export interface LinkOptions {
  /** Integer seed (low 32 bits used): the same seed and the same sends give the same run. */
  seed: number;
  /** Conditions for both directions. */
  conditions?: LinkConditions;
  /** Overrides for a → b, merged field by field over `conditions` (`burst` as a whole). */
  aToB?: LinkConditions;
  /** Overrides for b → a, merged field by field over `conditions` (`burst` as a whole). */
  bToA?: LinkConditions;
  /** Scripted drops, run in order; see {@link DropRule}. */
  rules?: DropRule[];
  /** Called for every datagram decision; costs nothing when absent. */
  trace?: (event: LinkEvent) => void;
}

/** Counters of one direction. `delivered` counts duplicate copies; `dropped` counts every drop reason. */
export interface LinkDirectionStats {
  sent: number;
  dropped: number;
  duplicated: number;
  delivered: number;
  bytesSent: number;
  bytesDelivered: number;
}

interface Resolved {
  loss: number;
  burst: boolean;
  enter: number;
  exit: number;
  burstLoss: number;
  latency: number;
  jitter: number;
  duplicate: number;
  reorder: number;
  reorderDelay: number;
  bandwidth: number;
  queueLimit: number;
}

interface Lane {
  readonly c: Resolved;
  readonly stats: LinkDirectionStats;
  bad: boolean;
  /** When the bottleneck finishes serializing everything accepted so far. */
  freeAt: number;
}

interface InFlight {
  direction: LinkDirection;
  datagram: Uint8Array;
}

/**
 * A two-way impaired link in simulated time. Put datagrams on it with {@link LinkSimulator.send}, take them off
 * with {@link LinkSimulator.deliver}. Each send draws exactly 8 values from the link's generator, whatever the conditions
 * and the outcome, so a run is reproducible from `seed` and the sequence of sends.
 *
 * @example
 * const link = new LinkSimulator({ seed: 1, conditions: { latency: 50, jitter: 10, loss: 0.05 } });
 * link.send('a-to-b', bytes, 0);
 * for (const { direction, datagram } of link.deliver(link.nextDeliveryTime())) { ... }
 */
export class LinkSimulator {
  private readonly rng: Random;
  private readonly lanes: Record<LinkDirection, Lane>;
  private readonly rules: readonly DropRule[];
  private readonly trace: ((event: LinkEvent) => void) | undefined;
  private readonly flying = new TimeHeap<InFlight>();

  /** @throws RangeError naming the field for a bad seed, probability, delay or size. */
  constructor(options: LinkOptions) {
    if (!Number.isInteger(options.seed)) throw new RangeError(`LinkSimulator: seed must be an integer, got ${options.seed}`);
    validate(options.conditions, 'conditions');
    validate(options.aToB, 'aToB');
    validate(options.bToA, 'bToA');
    this.rng = new Random((options.seed ^ 0x6c696e6b) >>> 0); // a stream apart from the user's Random(seed)
    this.lanes = { 'a-to-b': lane(resolve(options.conditions, options.aToB)), 'b-to-a': lane(resolve(options.conditions, options.bToA)) };
    this.rules = [...(options.rules ?? [])];
    this.trace = options.trace;
  }

  /** Number of datagrams (duplicate copies included) on the wire, not yet delivered. */
  get inFlight(): number {
    return this.flying.size;
  }

  /** Put a datagram on the wire at time `now` (ms). The bytes are copied. */
  send(direction: LinkDirection, datagram: Uint8Array, now: number): void {
    if (direction !== 'a-to-b' && direction !== 'b-to-a')
      throw new RangeError(`LinkSimulator.send: unknown direction ${String(direction)}`);
    const ln = this.lanes[direction];
    checkTime(now);
    const { c, stats } = ln;
    const rng = this.rng;
    const uState = rng.float(),
      uBurst = rng.float(),
      uLoss = rng.float(),
      uDup = rng.float();
    const j1 = rng.float(),
      r1 = rng.float(),
      j2 = rng.float(),
      r2 = rng.float();
    const index = stats.sent++;
    const size = datagram.length;
    stats.bytesSent += size;
    if (c.burst) ln.bad = ln.bad ? uState >= c.exit : uState < c.enter;
    const bytes = datagram.slice();

    let reason: 'loss' | 'burst' | 'rule' | 'queue' | undefined;
    if (this.rules.length > 0) {
      const info: DatagramInfo = { direction, index, bytes, time: now };
      if (this.rules.some((rule) => rule(info))) reason = 'rule';
    }
    if (reason === undefined && ln.bad && uBurst < c.burstLoss) reason = 'burst';
    if (reason === undefined && uLoss < c.loss) reason = 'loss';
    let leaves = now;
    if (reason === undefined && c.bandwidth > 0) {
      const backlog = ((ln.freeAt - now) * c.bandwidth) / 1000;
      if (backlog > 0 && backlog + size > c.queueLimit) reason = 'queue';
      else leaves = ln.freeAt = Math.max(now, ln.freeAt) + (size * 1000) / c.bandwidth;
    }
    if (reason !== undefined) {
      stats.dropped++;
      this.trace?.({ type: 'drop', reason, direction, index, time: now, size });
      return;
    }
    this.launch(direction, index, bytes, now, leaves, j1, r1, false);
    if (uDup < c.duplicate) {
      stats.duplicated++;
      this.launch(direction, index, bytes.slice(), now, leaves, j2, r2, true);
    }
  }

  /** Earliest pending arrival time in ms, Infinity when nothing is in flight. */
  nextDeliveryTime(): number {
    return this.flying.peekTime();
  }

  /**
   * Remove and return every datagram due at or before `now`, in arrival order (ties: send order).
   * `time` is each datagram's arrival time. `deliver(Infinity)` drains the link.
   */
  deliver(now: number): Array<{ direction: LinkDirection; datagram: Uint8Array; time: number }> {
    if (Number.isNaN(now)) throw new RangeError('LinkSimulator.deliver: now must be a number, got NaN');
    const out: Array<{ direction: LinkDirection; datagram: Uint8Array; time: number }> = [];
    while (this.flying.size > 0 && this.flying.peekTime() <= now) {
      const time = this.flying.peekTime();
      const { direction, datagram } = this.flying.pop();
      const stats = this.lanes[direction].stats;
      stats.delivered++;
      stats.bytesDelivered += datagram.length;
      out.push({ direction, datagram, time });
    }
    return out;
  }

  /** A snapshot of the counters of both directions. */
  stats(): Record<LinkDirection, LinkDirectionStats> {
    return { 'a-to-b': { ...this.lanes['a-to-b'].stats }, 'b-to-a': { ...this.lanes['b-to-a'].stats } };
  }

  private launch(
    direction: LinkDirection,
    index: number,
    datagram: Uint8Array,
    now: number,
    leaves: number,
    uJitter: number,
    uReorder: number,
    duplicate: boolean,
  ): void {
    const c = this.lanes[direction].c;
    const reordered = uReorder < c.reorder;
    const deliverAt = leaves + c.latency + uJitter * c.jitter + (reordered ? c.reorderDelay : 0);
    this.flying.push(deliverAt, { direction, datagram });
    this.trace?.({ type: 'pass', direction, index, time: now, size: datagram.length, deliverAt, duplicate, reordered });
  }
}

/** Drops the first `count` datagrams (either direction) matching `predicate`, then lets the rest pass. */
export function dropFirstMatching(predicate: (d: DatagramInfo) => boolean, count = 1): DropRule {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`dropFirstMatching: count must be a non-negative integer, got ${count}`);
  let left = count;
  return (d) => {
    if (left === 0 || !predicate(d)) return false;
    left--;
    return true;
  };
}

/** Drops the datagrams with these send indices (see {@link DatagramInfo.index}) in one direction. */
export function dropIndices(direction: LinkDirection, indices: number[]): DropRule {
  const set = new Set(indices);
  return (d) => d.direction === direction && set.has(d.index);
}

function lane(c: Resolved): Lane {
  return { c, bad: false, freeAt: -Infinity, stats: { sent: 0, dropped: 0, duplicated: 0, delivered: 0, bytesSent: 0, bytesDelivered: 0 } };
}

function resolve(base: LinkConditions = {}, over: LinkConditions = {}): Resolved {
  const latency = over.latency ?? base.latency ?? 0;
  const jitter = over.jitter ?? base.jitter ?? 0;
  const burst = over.burst ?? base.burst;
  return {
    loss: over.loss ?? base.loss ?? 0,
    burst: burst !== undefined,
    enter: burst?.enter ?? 0,
    exit: burst?.exit ?? 1,
    burstLoss: burst?.loss ?? 1,
    latency,
    jitter,
    duplicate: over.duplicate ?? base.duplicate ?? 0,
    reorder: over.reorder ?? base.reorder ?? 0,
    reorderDelay: over.reorderDelay ?? base.reorderDelay ?? Math.max(10, 2 * jitter, latency / 2),
    bandwidth: over.bandwidth ?? base.bandwidth ?? 0,
    queueLimit: over.queueLimit ?? base.queueLimit ?? 65536,
  };
}

function validate(c: LinkConditions | undefined, path: string): void {
  if (c === undefined) return;
  const probability = (v: number | undefined, name: string): void => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new RangeError(`LinkSimulator: ${path}.${name} must be a probability in [0, 1], got ${v}`);
    }
  };
  const amount = (v: number | undefined, name: string, allowInfinity = false): void => {
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && (allowInfinity || v < Infinity))) {
      throw new RangeError(`LinkSimulator: ${path}.${name} must be a non-negative${allowInfinity ? '' : ' finite'} number, got ${v}`);
    }
  };
  probability(c.loss, 'loss');
  probability(c.duplicate, 'duplicate');
  probability(c.reorder, 'reorder');
  if (c.burst !== undefined) {
    if (c.burst.enter === undefined || c.burst.exit === undefined)
      throw new RangeError(`LinkSimulator: ${path}.burst needs enter and exit`);
    probability(c.burst.enter, 'burst.enter');
    probability(c.burst.exit, 'burst.exit');
    probability(c.burst.loss, 'burst.loss');
  }
  amount(c.latency, 'latency');
  amount(c.jitter, 'jitter');
  amount(c.reorderDelay, 'reorderDelay');
  amount(c.bandwidth, 'bandwidth');
  amount(c.queueLimit, 'queueLimit', true);
}

function checkTime(now: number): void {
  if (!Number.isFinite(now)) throw new RangeError(`LinkSimulator.send: now must be a finite number, got ${now}`);
}
