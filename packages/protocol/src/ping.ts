/**
 * ICMP-style ping/pong inside the protocol: round-trip time, jitter, loss in each direction and the
 * peer's clock offset, from plain data (the connection puts these on the wire).
 *
 * A pong carries the four NTP timestamps t0 (ping sent, our clock), t1 (ping received) and t2 (pong
 * sent, both the peer's clock) and t3 (pong received, our clock): rtt = (t3 - t0) - (t2 - t1) and
 * offset = ((t1 - t0) + (t2 - t3)) / 2, taken from the lowest-rtt sample in the window (NTP clock
 * filter). It also carries the peer's running count of pings received, which splits loss by
 * direction with no extra messages. All state lives in fixed-size rings of `window` slots.
 */

import { SampleWindow, type SampleSummary } from './sample-window.js';
import { unwrap, wrap } from './sequence.js';

export interface Ping {
  /** u16, wraps. */
  seq: number;
  /** Sender clock, ms. */
  sentAt: number;
}

export interface Pong {
  /** The ping's seq, echoed. */
  seq: number;
  /** Total pings the responder has received from this peer so far, incl. this one, modulo 2^32. */
  pingsReceived: number;
  /** Responder clock when the ping arrived (ms). */
  receivedAt: number;
  /** Responder clock when the pong was sent (ms). */
  sentAt: number;
}

const U32 = 0x1_0000_0000;

/** The answering side: counts pings and builds pongs. */
export class PingResponder {
  private count = 0;

  /** Pings received so far, modulo 2^32. */
  get received(): number {
    return this.count;
  }

  /** Answers a ping; `now` is used as both receive and send time (answered on arrival). */
  onPing(ping: Ping, now: number): Pong {
    this.count = (this.count + 1) % U32;
    return { seq: wrap(ping.seq), pingsReceived: this.count, receivedAt: now, sentAt: now };
  }
}

export interface PingOptions {
  /** ms between pings; 0 (or any non-positive / non-finite value) disables pinging. */
  interval: number;
  /** Pings kept for the loss/offset/rtt windows, an integer in [2, 32768]; default 32. */
  window?: number;
  /**
   * ms after which a still-unanswered ping counts as lost in stats(); default max(3·interval, 2000).
   * A pong arriving later is still accepted while its ping is in the window, and the count is revised.
   */
  timeout?: number;
}

export interface PingStats {
  /** Pings sent, pongs accepted (totals). */
  sent: number;
  received: number;
  /** Round-trip samples over the last `window` accepted pongs. */
  rtt: SampleSummary | undefined;
  /** RFC 3550 §6.4.1 estimator over consecutive round trips: J += (|D| - J) / 16 (ms). */
  jitter: number;
  /** Fractions 0..1 over the window. */
  lossUp: number;
  lossDown: number;
  /**
   * Peer clock minus local clock (ms): from the handshake's sample as soon as connected, then the best
   * (lowest round trip) of the samples in the window. undefined only before any sample.
   */
  clockOffset: number | undefined;
  /** How many samples the clock offset is chosen from (the handshake's, while in the window, and answered pings). */
  clockSamples: number;
}

/** A clock sample from outside the ping stream (the handshake, handshake.ts). */
export interface ExternalSample {
  rtt: number;
  offset: number;
}

export class PingTracker {
  private readonly interval: number;
  private readonly size: number;
  private readonly timeout: number;
  private nextAt: number;
  /** Pings sent; also the unwrapped seq of the next ping. Ping n lives in slot n % size. */
  private sentCount = 0;
  private receivedCount = 0;
  private readonly slotSeq: Float64Array;
  private readonly slotSentAt: Float64Array;
  private readonly slotAnswered: Uint8Array;
  private readonly slotPeerCount: Float64Array;
  private readonly slotRtt: Float64Array;
  private readonly slotOffset: Float64Array;
  private readonly rtts: SampleWindow;
  private lastRtt: number | undefined;
  private jitter = 0;
  /** Offset from the best sample when the last pong was accepted, kept once the window moves past it. */
  private lastOffset: number | undefined;
  /** The handshake's sample and the number of pings sent before it: it leaves the window with them. */
  private external: (ExternalSample & { before: number }) | undefined;

  constructor(options: PingOptions) {
    const interval = options.interval;
    this.interval = Number.isFinite(interval) && interval > 0 ? interval : 0;
    const size = options.window ?? 32;
    if (!Number.isInteger(size) || size < 2 || size > 0x8000)
      throw new RangeError(`ping window must be an integer in [2, 32768], got ${size}`);
    this.size = size;
    this.timeout = options.timeout ?? Math.max(3 * this.interval, 2000);
    // -Infinity: the first ping is due at the first poll, whatever the clock reads.
    this.nextAt = this.interval > 0 ? -Infinity : Infinity;
    this.slotSeq = new Float64Array(size).fill(-1);
    this.slotSentAt = new Float64Array(size);
    this.slotAnswered = new Uint8Array(size);
    this.slotPeerCount = new Float64Array(size);
    this.slotRtt = new Float64Array(size);
    this.slotOffset = new Float64Array(size);
    this.rtts = new SampleWindow(size);
  }

  /** When the next ping is due (absolute ms): -Infinity before the first poll, Infinity when disabled. */
  nextPingTime(): number {
    return this.nextAt;
  }

  /** Returns the ping to send if one is due at `now` (and schedules the next at now + interval), else undefined. */
  poll(now: number): Ping | undefined {
    if (!(now >= this.nextAt)) return undefined;
    const n = this.sentCount++;
    const slot = n % this.size;
    this.slotSeq[slot] = n;
    this.slotSentAt[slot] = now;
    this.slotAnswered[slot] = 0;
    this.nextAt = now + this.interval;
    return { seq: wrap(n), sentAt: now };
  }

  /**
   * Feed a pong. Returns the round-trip sample in ms, or undefined if the pong is a duplicate, unknown,
   * too old (outside the window) or inconsistent. Never throws. The send time used is our own record
   * of the ping (a PONG does not echo it: nothing a peer says about our own clock is trusted).
   */
  onPong(pong: Pong, now: number): number | undefined {
    const { seq, pingsReceived, receivedAt: t1, sentAt: t2 } = pong;
    if (this.sentCount === 0 || !Number.isInteger(seq) || seq < 0 || seq > 0xffff) return undefined;
    if (!Number.isInteger(pingsReceived) || pingsReceived < 0 || pingsReceived >= U32) return undefined;
    if (!Number.isFinite(t1) || !Number.isFinite(t2) || !Number.isFinite(now) || t2 < t1) return undefined;
    const n = unwrap(seq, this.sentCount - 1);
    if (n < 0 || n >= this.sentCount || n <= this.sentCount - 1 - this.size) return undefined;
    const slot = n % this.size;
    if (this.slotSeq[slot] !== n || this.slotAnswered[slot] !== 0) return undefined;
    const t0 = this.slotSentAt[slot]!;
    const rtt = now - t0 - (t2 - t1);
    const offset = (t1 - t0 + (t2 - now)) / 2;
    if (!(rtt >= 0) || !Number.isFinite(rtt) || !Number.isFinite(offset)) return undefined;

    this.slotAnswered[slot] = 1;
    this.slotPeerCount[slot] = pingsReceived;
    this.slotRtt[slot] = rtt;
    this.slotOffset[slot] = offset;
    this.receivedCount++;
    this.rtts.add(rtt);
    if (this.lastRtt !== undefined) this.jitter += (Math.abs(rtt - this.lastRtt) - this.jitter) / 16;
    this.lastRtt = rtt;
    this.lastOffset = this.bestOffset();
    return rtt;
  }

  /**
   * Adds a sample taken outside the ping stream (the handshake's): it takes part in the clock filter like an
   * answered ping until `window` more pings have been sent. Ignored if not finite or rtt < 0.
   */
  addSample(sample: ExternalSample): void {
    if (!(sample.rtt >= 0) || !Number.isFinite(sample.rtt) || !Number.isFinite(sample.offset)) return;
    this.external = { rtt: sample.rtt, offset: sample.offset, before: this.sentCount };
    this.lastOffset = this.bestOffset();
  }

  stats(now: number): PingStats {
    const { lossUp, lossDown } = this.loss(now);
    return {
      sent: this.sentCount,
      received: this.receivedCount,
      rtt: this.rtts.summary(),
      jitter: this.jitter,
      lossUp,
      lossDown,
      clockOffset: this.bestOffset() ?? this.lastOffset,
      clockSamples: this.clockSamples(),
    };
  }

  /** The peer's clock now, estimated: now + clockOffset (now itself before any pong). */
  peerTime(now: number): number {
    return now + (this.bestOffset() ?? this.lastOffset ?? 0);
  }

  /** Unwrapped seq of the oldest ping in the window. */
  private windowStart(): number {
    return Math.max(0, this.sentCount - this.size);
  }

  /** The external sample while the pings sent before it are still in the window. */
  private externalInWindow(): ExternalSample | undefined {
    const e = this.external;
    return e && e.before >= this.windowStart() ? e : undefined;
  }

  private clockSamples(): number {
    let n = this.externalInWindow() ? 1 : 0;
    for (let i = this.windowStart(); i < this.sentCount; i++) if (this.slotAnswered[i % this.size] === 1) n++;
    return n;
  }

  /** NTP clock filter: the offset of the lowest-rtt sample in the window (answered pings and the external one). */
  private bestOffset(): number | undefined {
    const e = this.externalInWindow();
    let best: number | undefined = e?.offset;
    let bestRtt = e ? e.rtt : Infinity;
    for (let n = this.windowStart(); n < this.sentCount; n++) {
      const slot = n % this.size;
      if (this.slotAnswered[slot] === 1 && this.slotRtt[slot]! < bestRtt) {
        bestRtt = this.slotRtt[slot]!;
        best = this.slotOffset[slot]!;
      }
    }
    return best;
  }

  /**
   * Loss each way over the window. Between the oldest (j) and newest (k) answered pings the peer's
   * counters split it exactly: k - j pings sent, R_k - R_j arrived, and of the pongs for those we got
   * the ones answered in (j, k]. Pings outside [j, k] unanswered for longer than `timeout` are lost
   * in a direction we cannot know; they are charged upstream (a later pong's counter reassigns the
   * ones after k once it arrives).
   */
  private loss(now: number): { lossUp: number; lossDown: number } {
    let j = -1;
    let k = -1;
    for (let n = this.windowStart(); n < this.sentCount; n++) {
      if (this.slotAnswered[n % this.size] === 1) {
        if (j < 0) j = n;
        k = n;
      }
    }
    let between = 0;
    let unknown = 0;
    for (let n = this.windowStart(); n < this.sentCount; n++) {
      const slot = n % this.size;
      if (this.slotAnswered[slot] === 1) {
        if (n > j) between++;
      } else if ((j < 0 || n < j || n > k) && now - this.slotSentAt[slot]! >= this.timeout) {
        unknown++;
      }
    }
    let arrived = 0;
    if (j >= 0 && k > j) {
      // u32 serial difference, negative (reordered or lying peer) clamped to 0, and at most k - j.
      let d = (((this.slotPeerCount[k % this.size]! - this.slotPeerCount[j % this.size]!) % U32) + U32) % U32;
      if (d >= U32 / 2) d = 0;
      arrived = Math.min(d, k - j);
    }
    const upDenominator = k - j + unknown;
    const lossUp = upDenominator > 0 ? 1 - arrived / upDenominator : 0;
    const lossDown = arrived > 0 ? 1 - between / arrived : 0;
    return { lossUp: clamp01(lossUp), lossDown: clamp01(lossDown) };
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
