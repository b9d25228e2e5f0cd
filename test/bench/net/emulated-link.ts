/**
 * One direction of an emulated network path, in user space: a tail-drop FIFO queue measured in bytes, drained
 * at the link's rate, then a fixed propagation delay. What goes through it is a packet of a given size (its IP
 * bytes) and what to do when it arrives at the far end.
 *
 *  - A packet offered when the queue's backlog (bytes accepted whose last bit has not left yet, the one being
 *    serialized included) plus its own size would exceed `queueBytes` is dropped (tail drop) and counted.
 *  - Otherwise it leaves when the packets before it have, taking size × 8 / rate to serialize, and arrives
 *    `delayMs` after its last bit left. Without a rate there is no queue: every packet arrives `delayMs` later.
 *  - Packets arrive in the order they were accepted (a FIFO: departure times never decrease).
 *
 * A TCP relay cannot drop bytes of a stream, so it asks `fits()` first and, when there is no room, waits for
 * `whenRoom()` (called when a packet has left) instead of offering: see tcp-relay.ts for what that means.
 *
 * Timing: one Node timer per link, armed for the earliest due event; every delivery's lateness (actual minus
 * due time) is recorded, so the emulation's own error is in the results. Nothing here is global: a link is
 * closed with close(), which drops whatever it still holds.
 */

import { performance } from 'node:perf_hooks';
import { Fifo } from './fifo.js';
import { SampleLog, summarize } from './latency.js';
import type { FlowStats, LinkSpec, LinkStats } from './relay-protocol.js';

/** IP bytes around a UDP datagram's payload (IPv4 20 + UDP 8), and around a TCP segment's (IPv4 20 + TCP 20 + timestamps 12). */
export const UDP_OVERHEAD = 28;
export const TCP_OVERHEAD = 52;
/** Payload of one TCP segment at MTU 1500 with timestamps (what the loopback namespace's TCP uses). */
export const TCP_SEGMENT_PAYLOAD = 1448;

/**
 * Deliveries due within this much of now are made now. Node timers fire on a 1 ms clock, at or after their
 * time; delivering up to half a millisecond early centres the error around zero instead of always late.
 */
const EARLY_MS = 0.5;

interface Departure {
  at: number;
  size: number;
}

interface Delivery {
  at: number;
  run: () => void;
}

class FlowCounter {
  packets = 0;
  bytes = 0;
  dropped = 0;
  droppedBytes = 0;
  stalls = 0;
  readonly queueDelay = new SampleLog();

  stats(): FlowStats {
    return {
      packets: this.packets,
      bytes: this.bytes,
      dropped: this.dropped,
      droppedBytes: this.droppedBytes,
      queueDelay: summarize(this.queueDelay.samples),
      stalls: this.stalls,
    };
  }
}

export class EmulatedLink {
  private readonly departures = new Fifo<Departure>();
  private readonly deliveries = new Fifo<Delivery>();
  private backlog = 0;
  private maxBacklog = 0;
  private lastDepartAt = -Infinity;
  private waiters: (() => void)[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly flows = new Map<string, FlowCounter>();
  private readonly lateness = new SampleLog();

  constructor(readonly spec: LinkSpec) {
    if (!(spec.delayMs >= 0)) throw new RangeError(`delayMs must be ≥ 0, got ${spec.delayMs}`);
    if (spec.rateBitsPerSecond !== undefined && !(spec.rateBitsPerSecond > 0)) throw new RangeError('rateBitsPerSecond must be > 0');
    if (spec.queueBytes !== undefined && !(spec.queueBytes > 0)) throw new RangeError('queueBytes must be > 0');
  }

  /** True when a packet of `size` bytes would be accepted now. */
  fits(size: number): boolean {
    this.advance(performance.now());
    return this.spec.queueBytes === undefined || this.backlog + size <= this.spec.queueBytes;
  }

  /** Offers a packet of `size` IP bytes for `flow`; false if it was tail-dropped. `deliver` runs when it arrives. */
  offer(flow: string, size: number, deliver: () => void): boolean {
    if (this.closed) return false;
    const now = performance.now();
    this.advance(now);
    const f = this.flow(flow);
    f.packets++;
    f.bytes += size;
    if (this.spec.queueBytes !== undefined && this.backlog + size > this.spec.queueBytes) {
      f.dropped++;
      f.droppedBytes += size;
      return false;
    }
    let departAt = now;
    const rate = this.spec.rateBitsPerSecond;
    if (rate !== undefined) {
      departAt = Math.max(now, this.lastDepartAt) + ((size * 8) / rate) * 1000;
      this.lastDepartAt = departAt;
      this.departures.push({ at: departAt, size });
      this.backlog += size;
      if (this.backlog > this.maxBacklog) this.maxBacklog = this.backlog;
    }
    f.queueDelay.add(departAt - now);
    this.deliveries.push({ at: departAt + this.spec.delayMs, run: deliver });
    this.arm(now);
    return true;
  }

  /** Runs `callback` once, after the next packet has left the link (so there may be room). */
  whenRoom(callback: () => void): void {
    if (this.closed) return;
    this.waiters.push(callback);
    this.arm(performance.now());
  }

  /** Counts one back-pressure stall of a TCP flow (it stopped reading its source). */
  noteStall(flow: string): void {
    this.flow(flow).stalls++;
  }

  stats(): LinkStats {
    const flows: Record<string, FlowStats> = {};
    for (const [name, f] of this.flows) flows[name] = f.stats();
    return { spec: this.spec, flows, maxBacklogBytes: this.maxBacklog, lateness: summarize(this.lateness.samples) };
  }

  /** Drops everything still queued or in flight and stops the timer. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.departures.clear();
    this.deliveries.clear();
    this.waiters = [];
  }

  private flow(name: string): FlowCounter {
    let f = this.flows.get(name);
    if (!f) this.flows.set(name, (f = new FlowCounter()));
    return f;
  }

  /** Takes the packets whose last bit has left by `now` out of the backlog. */
  private advance(now: number): void {
    for (let d = this.departures.first; d && d.at <= now; d = this.departures.first) {
      this.backlog -= d.size;
      this.departures.shift();
    }
  }

  private arm(now: number): void {
    if (this.closed) return;
    let due = this.deliveries.first?.at ?? Infinity;
    const nextDeparture = this.departures.first?.at;
    if (this.waiters.length > 0 && nextDeparture !== undefined && nextDeparture < due) due = nextDeparture;
    if (due === Infinity || (this.timer && this.timerAt <= due)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = due;
    this.timer = setTimeout(() => this.run(), Math.max(0, due - now - EARLY_MS));
  }

  private run(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    if (this.closed) return;
    const now = performance.now();
    this.advance(now);
    for (let d = this.deliveries.first; d && d.at <= now + EARLY_MS; d = this.deliveries.first) {
      this.deliveries.shift();
      this.lateness.add(now - d.at);
      try {
        d.run();
      } catch {
        // A delivery to a socket that has gone away: the packet is lost, as it would be.
      }
      if (this.closed) return;
    }
    if (this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
    this.arm(performance.now());
  }
}
