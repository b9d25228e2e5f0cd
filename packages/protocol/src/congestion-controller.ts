/**
 * Congestion control for reliable data (docs/protocol.md §4, and docs/congestion.md for why this design):
 * a model of the path in the spirit of BBR — its bottleneck bandwidth (the highest delivery rate of the last
 * ten rounds) and its base round trip (the lowest RTT of the last ten seconds) — paced at that bandwidth so
 * queues stay short, with a window of twice the bandwidth-delay product. Loss bounds it as in BBRv2: a round
 * trip losing more than 2 % of what it sent cuts the in-flight ceiling to 0.7 of what was in flight, and the
 * ceiling grows back by one packet per round trip while the window is full — the same multiplicative
 * decrease and additive increase as TCP's, so a flow of ours takes about its fair share next to one.
 *
 * States: startup (pacing at 2.89× the bandwidth until it stops growing by 25 % for three rounds, a round's
 * lowest RTT is 4–16 ms above the base, or loss),
 * drain (the queue startup built is emptied), probe-bandwidth (an eight-phase cycle, one base RTT each: 1.25×
 * to find more bandwidth, 0.75× to drain what that queued, then 1× six times, 0.85× while the last round
 * trip's lowest RTT was above the base: a queue of ours stands at the bottleneck), probe-rtt (every ten seconds
 * without a new lowest RTT, four packets in flight for 200 ms, so the base RTT is measured without our own
 * queue). A game's traffic is mostly application-limited: then it stays in startup, whose window and pace
 * (at least the initial window per smoothed RTT, × 2.89) never hold it back.
 *
 * Sans-I/O: fed packets sent, acknowledged and lost, with the time; it answers how much may be in flight and
 * at what pace (Pacer).
 */

import { DeliveryRate } from './delivery-rate.js';
import { BURST_PACKETS, MEASURED_BURST_PACKETS, Pacer } from './pacer.js';
import type { RttEstimator } from './rtt-estimator.js';
import type { SentPacket } from './sent-packets.js';

export type CongestionState = 'startup' | 'drain' | 'probe-bandwidth' | 'probe-rtt';

/** What the congestion controller believes about the path, for stats. */
export interface CongestionStats {
  state: CongestionState;
  /** Estimated bottleneck bandwidth, bytes per second (0 before the first sample). */
  bandwidth: number;
  /** Bytes that may be in flight. */
  congestionWindow: number;
  /** Bytes in ack-eliciting packets not yet acknowledged or lost. */
  bytesInFlight: number;
  /** Rate data packets leave at, bytes per second (Infinity: not paced). */
  pacingRate: number;
  /** The lowest RTT of the last ten seconds, ms (Infinity before a sample). */
  minRtt: number;
  /** How much the smoothed RTT is above the base: the queue in front of us, ms. */
  queueDelay: number;
}

export const INITIAL_WINDOW_PACKETS = 10;
export const MIN_WINDOW_PACKETS = 4;
const STARTUP_GAIN = 2.885;
const CWND_GAIN = 2;
/**
 * Pacing gain while cruising (the cycle's 1× phases) after a round trip whose lowest RTT stayed above the base
 * (by the startup test's margin): a queue of ours is standing at the bottleneck. The bandwidth is the highest
 * delivery rate of ten rounds, so it runs a little high (a sample from acks that came back bunched), and at
 * 1× the pace then fills the queue up to the window; a game's stream on the same connection waits behind it.
 * The lowest RTT of a round is above the base only when the queue never emptied in it: jitter alone does not
 * raise a minimum, so this does not mistake a jittery path for a queue.
 */
const QUEUE_DRAIN_GAIN = 0.85;
const CYCLE = [1.25, 0.75, 1, 1, 1, 1, 1, 1];
const BW_ROUNDS = 10;
const MIN_RTT_WINDOW = 10_000;
const PROBE_RTT_MS = 200;
const LOSS_THRESHOLD = 0.02;
/**
 * Startup also ends on a round trip whose lowest RTT is this far above the base (HyStart++'s test, RFC 9406:
 * an eighth of the base, 4–16 ms) while the sender was not application-limited: the queue is building, and
 * waiting for the bandwidth to stop growing would let it build for three more rounds.
 */
const QUEUE_DELAY_MIN = 4;
const QUEUE_DELAY_MAX = 16;
/**
 * ...taken over at least this many RTT samples in the round, so noise is not a queue (HyStart++ takes 8; at
 * 2 Mbit/s and 40 ms a round trip has only 4 or 5 acks).
 */
const QUEUE_DELAY_SAMPLES = 4;
const BETA = 0.7;

export class CongestionController {
  readonly rate: DeliveryRate;
  readonly pacer: Pacer;
  bytesInFlight = 0;
  state: CongestionState = 'startup';
  private readonly initialWindow: number;
  private readonly minWindow: number;
  /** Max delivery rate per round, in a ring of BW_ROUNDS slots (bytes/ms), and the round each slot holds. */
  private readonly bwSlot = new Float64Array(BW_ROUNDS);
  private readonly bwRound = new Float64Array(BW_ROUNDS).fill(-1);
  private round = 0;
  private nextRoundDelivered = 0;
  private fullBw = 0;
  private fullBwCount = 0;
  private filled = false;
  private minRttValue = Infinity;
  private minRttAt: number;
  private inflightHi = Infinity;
  private sentInRound = 0;
  private lostInRound = 0;
  private lossesInRound = 0;
  private maxInflightInRound = 0;
  private roundAppLimited = false;
  private roundMinRtt = Infinity;
  private roundRttSamples = 0;
  /** The last round trip's lowest RTT was above the base: a queue of ours stood all through it. */
  private standingQueue = false;
  private cycleIndex = 0;
  private cycleStart = 0;
  /** probe-rtt: when the four-packet hold ends (Infinity until in flight has come down to it). */
  private probeRttUntil = Infinity;
  private probeRttMin = Infinity;

  constructor(
    private readonly mtu: number,
    private readonly rtt: RttEstimator,
    now: number,
  ) {
    this.initialWindow = INITIAL_WINDOW_PACKETS * mtu;
    this.minWindow = MIN_WINDOW_PACKETS * mtu;
    this.rate = new DeliveryRate(now);
    this.pacer = new Pacer(mtu, this.initialWindow, now);
    this.minRttAt = now;
    this.updatePacing();
  }

  /** Bottleneck bandwidth estimate, bytes per ms (0 before any sample). */
  get bandwidth(): number {
    let max = 0;
    for (let i = 0; i < BW_ROUNDS; i++) if (this.bwRound[i]! > this.round - BW_ROUNDS && this.bwSlot[i]! > max) max = this.bwSlot[i]!;
    return max;
  }

  /** Whether the bottleneck's bandwidth has been measured (startup is over). */
  get bandwidthKnown(): boolean {
    return this.filled;
  }

  get minRtt(): number {
    return this.minRttValue;
  }

  /** Bytes that may be in flight now. */
  get window(): number {
    if (this.state === 'probe-rtt') return this.minWindow;
    const bw = this.bandwidth;
    const startup = this.state === 'startup';
    const target = bw > 0 && this.minRttValue < Infinity ? CWND_GAIN * bw * this.minRttValue : this.initialWindow;
    return Math.max(this.minWindow, Math.min(this.inflightHi, startup ? Math.max(target, this.initialWindow) : target));
  }

  /** Whether a packet of `size` bytes fits the window (one always does when nothing is in flight). */
  canSend(size: number): boolean {
    return this.bytesInFlight === 0 || this.bytesInFlight + size <= this.window;
  }

  /** An ack-eliciting packet is leaving (stamped for rate samples); `paced`: it counts against the pace. */
  onSent(p: SentPacket, now: number, paced: boolean): void {
    this.rate.onSent(p, this.bytesInFlight, now);
    this.bytesInFlight += p.size;
    this.sentInRound += p.size;
    if (this.bytesInFlight > this.maxInflightInRound) this.maxInflightInRound = this.bytesInFlight;
    if (paced) this.pacer.onSent(p.size, now);
  }

  /** An RTT sample (the connection's, from the largest newly acknowledged packet). */
  onRttSample(rtt: number, now: number): void {
    if (!(rtt >= 0)) return;
    if (this.state === 'probe-rtt') {
      this.probeRttMin = Math.min(this.probeRttMin, rtt);
      return;
    }
    if (rtt < this.roundMinRtt) this.roundMinRtt = rtt;
    this.roundRttSamples++;
    if (rtt <= this.minRttValue) {
      this.minRttValue = rtt;
      this.minRttAt = now;
    } else if (now - this.minRttAt > MIN_RTT_WINDOW) {
      if (this.state === 'probe-bandwidth') {
        // Ten seconds without a new lowest: measure the base again, with our own queue gone.
        this.state = 'probe-rtt';
        this.probeRttUntil = Infinity;
        this.probeRttMin = rtt;
      } else {
        this.minRttValue = rtt; // application-limited (startup): no queue of ours in the sample
        this.minRttAt = now;
      }
    }
  }

  /** A packet was acknowledged. */
  onAcked(p: SentPacket, now: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - p.size);
    const s = this.rate.onAcked(p, now, this.minRttValue === Infinity ? 0 : this.minRttValue);
    if (p.delivered >= this.nextRoundDelivered) {
      this.endRound();
      this.nextRoundDelivered = this.rate.delivered;
    }
    if (s) {
      if (s.appLimited) this.roundAppLimited = true;
      if (!s.appLimited || s.rate >= this.bandwidth) {
        const i = this.round % BW_ROUNDS;
        if (this.bwRound[i] !== this.round) {
          this.bwRound[i] = this.round;
          this.bwSlot[i] = s.rate;
        } else if (s.rate > this.bwSlot[i]!) this.bwSlot[i] = s.rate;
      }
    }
    this.advance(now);
  }

  /** A packet was declared lost (or dropped from the books). */
  onLost(p: SentPacket, now: number): void {
    this.bytesInFlight = Math.max(0, this.bytesInFlight - p.size);
    this.lostInRound += p.size;
    this.lossesInRound++;
    this.advance(now);
  }

  /** Nothing more to send with room in the window: what goes out next is application-limited. */
  onAppLimited(): void {
    if (this.bytesInFlight < this.window) this.rate.markAppLimited(this.bytesInFlight);
  }

  stats(): CongestionStats {
    return {
      state: this.state,
      bandwidth: this.bandwidth * 1000,
      congestionWindow: this.window,
      bytesInFlight: this.bytesInFlight,
      pacingRate: this.pacer.rate * 1000,
      minRtt: this.minRttValue,
      queueDelay: this.minRttValue === Infinity ? 0 : Math.max(0, this.rtt.smoothed - this.minRttValue),
    };
  }

  /** A round trip ended (a packet sent after the last round began was acknowledged). */
  private endRound(): void {
    const lossy = this.lossesInRound >= 2 && this.lostInRound > LOSS_THRESHOLD * Math.max(this.sentInRound, 1);
    if (lossy) {
      this.inflightHi = Math.max(this.minWindow, BETA * Math.min(this.inflightHi, this.maxInflightInRound));
      if (this.state === 'startup') this.leaveStartup();
    } else if (this.state === 'probe-bandwidth' && this.inflightHi < Infinity && this.maxInflightInRound + this.mtu >= this.inflightHi) {
      this.inflightHi += this.mtu; // the ceiling held us back and nothing was lost: one packet more per round trip
    }
    const base = this.minRttValue;
    const rise = Math.min(QUEUE_DELAY_MAX, Math.max(QUEUE_DELAY_MIN, base / 8));
    const queued = this.roundRttSamples >= QUEUE_DELAY_SAMPLES && base < Infinity && this.roundMinRtt >= base + rise;
    this.standingQueue = queued;
    if (this.state === 'startup' && !this.roundAppLimited) {
      const bw = this.bandwidth;
      if (bw >= this.fullBw * 1.25) {
        this.fullBw = bw;
        this.fullBwCount = 0;
      } else if (++this.fullBwCount >= 3) this.leaveStartup();
      if (this.state === 'startup' && queued) this.leaveStartup();
    }
    this.round++;
    this.sentInRound = this.lostInRound = this.lossesInRound = 0;
    this.maxInflightInRound = this.bytesInFlight;
    this.roundAppLimited = false;
    this.roundMinRtt = Infinity;
    this.roundRttSamples = 0;
  }

  private leaveStartup(): void {
    this.filled = true;
    this.state = 'drain';
  }

  private advance(now: number): void {
    const bdp = this.bandwidth * this.minRttValue;
    if (this.state === 'drain' && (!(bdp > 0) || this.bytesInFlight <= bdp)) {
      this.state = 'probe-bandwidth';
      this.cycleIndex = 2; // start cruising; the first probe comes at the cycle's end
      this.cycleStart = now;
    } else if (this.state === 'probe-bandwidth') {
      const phase = Math.max(this.minRttValue === Infinity ? this.rtt.smoothed : this.minRttValue, 1);
      if (now - this.cycleStart >= phase) {
        this.cycleIndex = (this.cycleIndex + 1) % CYCLE.length;
        this.cycleStart = now;
      }
    } else if (this.state === 'probe-rtt') {
      if (this.probeRttUntil === Infinity && this.bytesInFlight <= this.minWindow) this.probeRttUntil = now + PROBE_RTT_MS;
      else if (now >= this.probeRttUntil) {
        if (this.probeRttMin < Infinity) this.minRttValue = this.probeRttMin; // what the hold measured is the base now
        this.minRttAt = now;
        this.state = this.filled ? 'probe-bandwidth' : 'startup';
        this.cycleIndex = 2;
        this.cycleStart = now;
      }
    }
    this.updatePacing();
  }

  private updatePacing(): void {
    const bw = this.bandwidth;
    let rate: number;
    if (this.state === 'startup') rate = STARTUP_GAIN * Math.max(bw, this.initialWindow / Math.max(this.rtt.smoothed, 1));
    else if (this.state === 'drain') rate = bw / STARTUP_GAIN;
    else if (this.state === 'probe-rtt') rate = bw;
    else {
      const gain = CYCLE[this.cycleIndex]!;
      rate = (gain === 1 && this.standingQueue ? QUEUE_DRAIN_GAIN : gain) * bw;
    }
    const burst = this.filled ? MEASURED_BURST_PACKETS : BURST_PACKETS;
    this.pacer.setRate(Math.max(rate, this.minWindow / Math.max(this.rtt.smoothed, 1)), this.window, burst);
  }
}
