/**
 * Loss detection, as in QUIC (RFC 9002 §6): an in-flight packet is lost when a packet at least
 * 3 newer has been acknowledged (packet threshold), or when a newer one was acknowledged and
 * 9/8·RTT has passed since it was sent (time threshold). When acknowledgements stop altogether the
 * probe timeout fires: everything in flight is declared lost, its reliable content goes out again in
 * new packets, and the timeout backs off ×2, clamped to [minRto, maxRto].
 */

import type { RttEstimator } from './rtt-estimator.js';
import type { SentPacket, SentPackets } from './sent-packets.js';
import type { LossReason } from './trace.js';

export const PACKET_THRESHOLD = 3;

export interface LossOptions {
  minRto: number;
  maxRto: number;
}

export class LossDetection {
  /** Consecutive probe timeouts without an acknowledgement. */
  ptoCount = 0;
  /** Earliest time a packet may cross the time threshold (Infinity: none pending). */
  private lossTime = Infinity;

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
    const delay = this.rtt.lossDelay();
    const victims: [SentPacket, LossReason][] = [];
    for (const p of this.sent.values()) {
      if (p.seq >= largest) break;
      if (largest - p.seq >= PACKET_THRESHOLD) victims.push([p, 'packet-threshold']);
      // Same expression as the timer below, so the timer firing always declares the loss (no float drift).
      else if (p.sentAt + delay <= now) victims.push([p, 'time-threshold']);
      else this.lossTime = Math.min(this.lossTime, p.sentAt + delay);
    }
    for (const [p, reason] of victims) {
      this.sent.take(p.seq);
      lost(p, reason);
    }
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
    return this.sent.lastAckElicitingSentAt + this.ptoDuration();
  }

  /** True when the time threshold timer (not the probe timer) is the one due. */
  get lossTimerArmed(): boolean {
    return this.lossTime < Infinity;
  }

  /** The probe timeout fired: every packet in flight is lost. */
  onProbeTimeout(lost: (p: SentPacket, reason: LossReason) => void): void {
    const all = [...this.sent.values()];
    this.sent.clear();
    this.ptoCount++;
    for (const p of all) lost(p, 'probe-timeout');
  }

  /** New packets were acknowledged: the peer is alive, reset the backoff. */
  onAckProgress(): void {
    this.ptoCount = 0;
  }
}
