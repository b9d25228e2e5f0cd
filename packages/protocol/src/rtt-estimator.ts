/**
 * Round-trip time estimation for timers (RFC 9002 §5, the QUIC refinement of RFC 6298).
 *
 * Each ack yields one sample: the time from sending the newest acked packet to receiving its ack.
 * The estimator keeps the minimum (min_rtt), an exponentially weighted mean (smoothed_rtt, gain 1/8)
 * and mean deviation (rttvar, gain 1/4), with the peer's reported ack delay subtracted when that
 * cannot push a sample below min_rtt. From these come the probe timeout base and the loss time
 * threshold. Pure arithmetic: the caller measures time and passes milliseconds in.
 */

export interface RttEstimatorOptions {
  /** ms, used for timers before the first sample (e.g. 100). */
  initialRtt: number;
  /** ms, the peer's promised maximum ack delay (until the handshake says otherwise); reported ack delays are clamped to it. */
  maxAckDelay: number;
  /** ms timer granularity, default 1. */
  granularity?: number;
}

export class RttEstimator {
  /** The peer's promised maximum ack delay, ms (set from the handshake). */
  maxAckDelay: number;
  private readonly granularity: number;
  private sampled = false;
  private latestRtt: number;
  private smoothedRtt: number;
  private rttVar: number;
  private minRtt = Infinity;

  constructor(options: RttEstimatorOptions) {
    this.maxAckDelay = options.maxAckDelay;
    this.granularity = options.granularity ?? 1;
    this.latestRtt = options.initialRtt;
    this.smoothedRtt = options.initialRtt;
    this.rttVar = options.initialRtt / 2;
  }

  get hasSample(): boolean {
    return this.sampled;
  }
  /** Last raw sample (ms); initialRtt before any. */
  get latest(): number {
    return this.latestRtt;
  }
  /** smoothed_rtt (ms). */
  get smoothed(): number {
    return this.smoothedRtt;
  }
  /** rttvar (ms). */
  get variance(): number {
    return this.rttVar;
  }
  /** min_rtt over the connection (ms); Infinity before any sample. */
  get min(): number {
    return this.minRtt;
  }

  /** One sample: `sample` = now - time the acked packet was sent; `ackDelay` = delay the peer reported. */
  addSample(sample: number, ackDelay: number): void {
    if (!Number.isFinite(sample) || sample < 0) return;
    this.latestRtt = sample;
    const delay = Number.isFinite(ackDelay) && ackDelay > 0 ? Math.min(ackDelay, this.maxAckDelay) : 0;
    if (!this.sampled) {
      // §5.3: the first sample initialises everything. QUIC ignores its ack delay (handshake acks are not held);
      // here the first ack may have been held for a whole tick, so its delay is taken off: min_rtt starts at the
      // path's round trip, and later acks held as long can still have their delay subtracted.
      // A peer that lies about its delays can therefore pull min_rtt and smoothed_rtt down, but by no more than the
      // max ack delay it announced, which ptoBase adds back: the probe timeout never falls below the path's round
      // trip, and the loss delay (from the raw latest sample too) never below 9/8 of it. It gains no earlier
      // resends than by simply withholding acks (rtt-estimator.test.ts checks the bound).
      const first = Math.max(0, sample - delay);
      this.sampled = true;
      this.minRtt = first;
      this.smoothedRtt = first;
      this.rttVar = first / 2;
      return;
    }
    this.minRtt = Math.min(this.minRtt, sample);
    // Subtract the ack delay only when the result stays at or above min_rtt.
    const adjusted = sample >= this.minRtt + delay ? sample - delay : sample;
    this.rttVar = 0.75 * this.rttVar + 0.25 * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = 0.875 * this.smoothedRtt + 0.125 * adjusted;
  }

  /** smoothed + max(4·variance, granularity) + maxAckDelay (no backoff applied). */
  ptoBase(): number {
    return this.smoothedRtt + Math.max(4 * this.rttVar, this.granularity) + this.maxAckDelay;
  }

  /** 9/8 · max(smoothed, latest), at least granularity (RFC 9002 §6.1.2). */
  lossDelay(): number {
    return Math.max((9 / 8) * Math.max(this.smoothedRtt, this.latestRtt), this.granularity);
  }
}
