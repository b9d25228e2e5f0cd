/**
 * Delivery-rate estimation (as in draft-cheng-iccrg-delivery-rate-estimation, which BBR rests on): each
 * packet sent is stamped with how many bytes had been delivered (acknowledged) by then and when; when it is
 * acknowledged, the bytes delivered since, over the time they took, are a sample of the path's delivery
 * rate. The interval is the longer of the send and the ack spans, so neither a burst sent at once nor acks
 * arriving bunched make the path look faster than it is. Samples taken while the sender had too little to
 * send (application-limited) only show a lower bound.
 */

import type { SentPacket } from './sent-packets.js';

export interface RateSample {
  /** Bytes per ms. */
  rate: number;
  /** The sample's packet was sent while application-limited. */
  appLimited: boolean;
  /** Bytes delivered before the sample's packet was sent (for round counting). */
  priorDelivered: number;
}

export class DeliveryRate {
  /** Bytes acknowledged so far. */
  delivered = 0;
  private deliveredAt: number;
  private firstSentAt: number;
  /** While not 0: sending is application-limited until `delivered` passes this. */
  private appLimitedUntil = 0;
  /** The one sample object handed out (read it before the next onAcked). */
  private readonly sample: RateSample = { rate: 0, appLimited: false, priorDelivered: 0 };

  constructor(now: number) {
    this.deliveredAt = now;
    this.firstSentAt = now;
  }

  /** Stamps a packet about to be sent with `inFlight` bytes (before it) in flight. */
  onSent(p: SentPacket, inFlight: number, now: number): void {
    if (inFlight === 0) {
      this.firstSentAt = now;
      this.deliveredAt = now;
    }
    p.delivered = this.delivered;
    p.deliveredAt = this.deliveredAt;
    p.firstSentAt = this.firstSentAt;
    p.appLimited = this.appLimitedUntil !== 0;
  }

  /** The sender had nothing (more) to send with room in its window: what follows is application-limited. */
  markAppLimited(inFlight: number): void {
    this.appLimitedUntil = Math.max(1, this.delivered + inFlight);
  }

  /**
   * A packet was acknowledged at `now`: its sample (the same object each time: read it before the next call),
   * or undefined when the interval is too short to mean anything.
   */
  onAcked(p: SentPacket, now: number, minRtt: number): RateSample | undefined {
    this.delivered += p.size;
    this.deliveredAt = now;
    if (this.appLimitedUntil !== 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    this.firstSentAt = p.sentAt;
    const interval = Math.max(p.sentAt - p.firstSentAt, now - p.deliveredAt);
    if (!(interval > 0) || interval < minRtt) return undefined;
    const s = this.sample;
    s.rate = (this.delivered - p.delivered) / interval;
    s.appLimited = p.appLimited;
    s.priorDelivered = p.delivered;
    return s;
  }
}
