/**
 * Pacing (docs/protocol.md §4): data packets leave at the congestion controller's rate instead of in bursts
 * that overflow a bottleneck's queue. A token bucket in bytes, sans-I/O: it refills at `rate` bytes per ms up
 * to a burst of `quantum` bytes (2 ms at the rate, within the window, and at least 10 packets until the path's
 * bandwidth is measured, 2 after); a packet may go while the bucket is not empty (it may take it below zero by
 * one packet), and the next waits until the bucket is positive again. It starts with `initial` bytes (the
 * initial window goes out at once, as RFC 9002 §7.7 allows).
 */

/**
 * Packets that may always leave back to back while the bandwidth is a guess (as in quinn's pacer), so a game's
 * occasional big message leaves whole.
 */
export const BURST_PACKETS = 10;
/**
 * ...and once it is measured. Then the bottleneck would space a bigger burst out anyway, so it is no faster
 * whole: it only queues there, in front of everything else (10 packets are 48 ms at 2 Mbit/s).
 */
export const MEASURED_BURST_PACKETS = 2;

export class Pacer {
  private tokens: number;
  private last: number;
  /** Bytes per ms. */
  private rateValue = Infinity;
  private quantum: number;

  constructor(
    private readonly mtu: number,
    initial: number,
    now: number,
  ) {
    this.tokens = initial;
    this.quantum = BURST_PACKETS * mtu;
    this.last = now;
  }

  /**
   * Sets the pacing rate (bytes per ms) and the most that may leave at once: 2 ms at the rate, at least
   * `burstPackets` packets, at most `window` bytes.
   */
  setRate(bytesPerMs: number, window: number, burstPackets = BURST_PACKETS): void {
    this.rateValue = bytesPerMs > 0 ? bytesPerMs : Infinity;
    const rate = this.rateValue === Infinity ? 0 : this.rateValue;
    this.quantum = Math.min(window, Math.max(burstPackets * this.mtu, 2 * rate));
  }

  get rate(): number {
    return this.rateValue;
  }

  /** Whether a packet may leave at `now`. */
  allows(now: number): boolean {
    this.refill(now);
    return this.tokens > 0;
  }

  /** A paced packet of `size` bytes left at `now`. */
  onSent(size: number, now: number): void {
    this.refill(now);
    this.tokens -= size;
  }

  /** When the next packet may leave (now or earlier if it may already). */
  nextSendTime(now: number): number {
    this.refill(now);
    if (this.tokens > 0 || this.rateValue === Infinity) return now;
    return now + (1e-6 - this.tokens) / this.rateValue;
  }

  private refill(now: number): void {
    if (now <= this.last) return;
    if (this.tokens < this.quantum) this.tokens = Math.min(this.quantum, this.tokens + (now - this.last) * this.rateValue);
    this.last = now;
  }
}
