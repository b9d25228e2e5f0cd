/**
 * Loss detection, as in QUIC (RFC 9002 §6): an in-flight packet is lost when a packet at least
 * 3 newer has been acknowledged (packet threshold), or when a newer one was acknowledged and
 * 9/8·RTT has passed since it was sent (time threshold). When acknowledgements stop altogether the
 * probe timeout fires (RFC 9002 §6.2): nothing is declared lost; the reliable content of the oldest
 * packets in flight goes out again as one or two probes, whose ack lets the thresholds decide what was
 * lost, and the timeout backs off ×2, clamped to [minRto, maxRto]. In-flight packets carrying nothing
 * to resend are dropped from the books then (declared lost), so they do not keep the timer armed.
 *
 * Reordering adapts the thresholds (as RFC 9002 §6.1 allows and TCP RACK does): when a packet declared
 * lost is acknowledged after all, the loss was spurious; the packet threshold grows to the reordering
 * distance seen (up to 64) and, for a time-threshold loss, the time factor grows by 1/8 (up to 2).
 */

import type { RttEstimator } from './rtt-estimator.js';
import type { SentPacket, SentPackets } from './sent-packets.js';
import type { LossReason } from './trace.js';

export const PACKET_THRESHOLD = 3;
/** Packets' worth of content a probe timeout sends again (RFC 9002 sends one or two probes). */
export const PROBE_PACKETS = 2;
const MAX_PACKET_THRESHOLD = 64;
const MAX_TIME_FACTOR = 2;
/** Lost packets remembered for spurious-loss detection. */
const RECENTLY_LOST = 1024;

export interface LossOptions {
  minRto: number;
  maxRto: number;
  /** How long the peer may hold the ack of packets with nothing to resend in them (ms); its max ack delay is the rtt's. */
  lazyAckDelay: number;
}

export class LossDetection {
  /** Consecutive probe timeouts without an acknowledgement. */
  ptoCount = 0;
  /** Earliest time a packet may cross the time threshold (Infinity: none pending). */
  private lossTime = Infinity;
  /** Current packet threshold (starts at 3) and time factor (starts at 9/8). */
  packetThreshold = PACKET_THRESHOLD;
  timeFactor = 9 / 8;
  /** Packets declared lost recently: number → the packet, the largest acknowledged at the time, and the rule. */
  private readonly recentlyLost = new Map<number, { packet: SentPacket; largest: number; reason: LossReason }>();

  constructor(
    private readonly sent: SentPackets,
    private readonly rtt: RttEstimator,
    private readonly options: LossOptions,
  ) {}

  /** Applies both thresholds at `now`; calls `lost` for each lost packet (already removed). */
  detect(now: number, lost: (p: SentPacket, reason: LossReason) => void): void {
    this.lossTime = Infinity;
    const largest = this.sent.largestAcked;
    if (largest < 0) return;
    const delay = Math.max(1, this.timeFactor * Math.max(this.rtt.smoothed, this.rtt.latest));
    const victims: [SentPacket, LossReason][] = [];
    for (const p of this.sent.values()) {
      if (p.seq >= largest) break;
      if (largest - p.seq >= this.packetThreshold) victims.push([p, 'packet-threshold']);
      // Same expression as the timer below, so the timer firing always declares the loss (no float drift).
      else if (p.sentAt + delay <= now) victims.push([p, 'time-threshold']);
      else this.lossTime = Math.min(this.lossTime, p.sentAt + delay);
    }
    for (const [p, reason] of victims) {
      this.sent.take(p.seq);
      this.remember(p, largest, reason);
      lost(p, reason);
    }
  }

  private remember(packet: SentPacket, largest: number, reason: LossReason): void {
    this.recentlyLost.set(packet.seq, { packet, largest, reason });
    if (this.recentlyLost.size > RECENTLY_LOST) this.recentlyLost.delete(this.recentlyLost.keys().next().value!);
  }

  /**
   * An acknowledgement named a packet no longer in flight. If we had declared it lost, the loss was
   * spurious: widen the thresholds, and return the packet (its content was delivered after all).
   */
  onLateAck(seq: number): SentPacket | undefined {
    const l = this.recentlyLost.get(seq);
    if (!l) return undefined;
    this.recentlyLost.delete(seq);
    if (l.reason === 'packet-threshold') {
      this.packetThreshold = Math.min(MAX_PACKET_THRESHOLD, Math.max(this.packetThreshold, l.largest - seq + 1));
    } else if (l.reason === 'time-threshold') {
      this.timeFactor = Math.min(MAX_TIME_FACTOR, this.timeFactor + 1 / 8);
    }
    return l.packet;
  }

  /** Current probe timeout duration, with backoff and clamping. */
  ptoDuration(): number {
    const base = this.rtt.ptoBase() * 2 ** Math.min(this.ptoCount, 16);
    return Math.min(this.options.maxRto, Math.max(this.options.minRto, base));
  }

  /** When detect() or onProbeTimeout() must next run (Infinity: nothing in flight). */
  nextTimeout(): number {
    if (this.lossTime < Infinity) return this.lossTime;
    if (this.sent.size === 0) return Infinity;
    // With only lazily acknowledged packets in flight, their ack may come that much later: no probe before.
    return (
      this.sent.lastAckElicitingSentAt +
      this.ptoDuration() +
      (this.sent.reliableInFlight ? 0 : Math.max(0, this.options.lazyAckDelay - this.rtt.maxAckDelay))
    );
  }

  /** True when the time threshold timer (not the probe timer) is the one due. */
  get lossTimerArmed(): boolean {
    return this.lossTime < Infinity;
  }

  /**
   * The probe timeout fired. Returns the packets whose reliable content to send again as probes (the
   * oldest in flight that carry any, at most `PROBE_PACKETS`); they stay in flight. Packets with nothing
   * to resend (pings, unreliable data) are removed and reported to `lost`.
   */
  onProbeTimeout(lost: (p: SentPacket, reason: LossReason) => void): SentPacket[] {
    this.ptoCount++;
    const probes: SentPacket[] = [];
    const empty: SentPacket[] = [];
    for (const p of this.sent.values()) {
      if (p.units.length === 0) empty.push(p);
      else if (probes.length < PROBE_PACKETS) probes.push(p);
    }
    for (const p of empty) {
      this.sent.take(p.seq);
      this.remember(p, this.sent.largestAcked, 'probe-timeout');
      lost(p, 'probe-timeout');
    }
    return probes;
  }

  /** New packets were acknowledged: the peer is alive, reset the backoff. */
  onAckProgress(): void {
    this.ptoCount = 0;
  }
}
