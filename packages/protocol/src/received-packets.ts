/**
 * What we have received from the peer: duplicate suppression over a window of recent packet numbers,
 * and the acknowledgement (anchor packet + 32-bit bitfield + ack delay) to put on outgoing packets.
 *
 * Packet numbers are unwrapped to plain integers (sequence.ts), so the 16-bit wrap never shows here.
 * Ack timing (docs/protocol.md §4): an ack is owed once an ack-eliciting packet arrives; it goes out at once
 * when such packets since the last ack hold more than one MTU of bytes (TCP's ack for every second full-sized
 * segment, so a bulk transfer is acked every second packet while a game's small inputs wait for the state they
 * can ride on), after an out-of-order one and for the QUICK_ACKS_AFTER_GAP reliable ones after it, otherwise
 * within maxAckDelay (LAZY_ACK_DELAY for packets with nothing to resend in them, or on a reliable transport),
 * and before a burst of arrivals could push an unreported packet out of the 33-packet window (`mustAckBefore`).
 *
 * Hostile input: the ack is anchored on the packet that arrived *last*, not the largest number seen, so
 * one forged packet far ahead cannot capture the ack window; jumps ahead are limited to MAX_SEQUENCE_JUMP
 * (half the duplicate window, so real packets stay acceptable after any accepted jump) unless three
 * consecutive packets agree on the new position, which is how an honest peer resumes after a long outage.
 */

import { unwrap, wrap } from './sequence.js';
import type { AckInfo } from './header.js';

/** How soon a received packet wants its ack (see ReceivedPackets.record). */
export type AckUrgency = 'none' | 'lazy' | 'eager';

/** Packets this far behind the newest are dropped as stale (duplicates can't be told any more). */
export const DEDUP_WINDOW = 4096;
/** A single packet more than this far ahead of the newest is refused as out-of-window. */
export const MAX_SEQUENCE_JUMP = 2048;
/** Far-ahead packets in a row (each within RESYNC_SPAN of the previous) that move the window anyway. */
const RESYNC_COUNT = 3;
const RESYNC_SPAN = 64;
/**
 * Ack-eliciting packets acknowledged at once after one that arrived out of order (as TCP's quick-ack mode):
 * should the ack that reported the gap be lost, the sender hears of the gap a packet later, not a whole max
 * ack delay later. Costs a few acks per loss, none on a clean link.
 */
export const QUICK_ACKS_AFTER_GAP = 2;

export type ReceiveVerdict = 'new' | 'duplicate' | 'stale' | 'out-of-window';

export class ReceivedPackets {
  /** Largest packet number received (unwrapped); -1 before any. */
  largest = -1;
  /** The packet that arrived last: the ack is anchored on it. */
  private anchor = -1;
  private anchorAt = 0;
  private anchorReported = true;
  private readonly seen = new Uint8Array(DEDUP_WINDOW);
  private readonly reported = new Uint8Array(DEDUP_WINDOW);
  /** Range of received packets no ack has reported yet (Infinity/-Infinity: none). */
  private unreportedLow = Infinity;
  private unreportedHigh = -Infinity;
  /** Bytes of ack-eliciting packets since the last ack. */
  private elicitingBytes = 0;
  /** Eliciting packets still to be acknowledged at once since the last gap. */
  private quickAcks = 0;
  /** A gap arrived with an ack-only packet, which is not acknowledged: the next eliciting one reports it at once. */
  private gapUnreported = false;
  private ackDeadline = Infinity;
  private resyncAt = -Infinity;
  private resyncRun = 0;
  count = 0;

  /** `ackBytes`: eliciting bytes past which an ack goes out at once (the MTU). */
  constructor(private readonly ackBytes: number) {}

  /** Unwraps a 16-bit packet number against what we have received. */
  unwrap(seq: number): number {
    return unwrap(seq, this.largest < 0 ? 0 : this.largest);
  }

  /** Classifies an (unwrapped) packet number. Far-ahead packets are remembered for the resync rule. */
  check(n: number): ReceiveVerdict {
    if (n < 0) return 'out-of-window';
    if (n > this.largest + MAX_SEQUENCE_JUMP) {
      const consistent = n > this.resyncAt && n <= this.resyncAt + RESYNC_SPAN;
      this.resyncRun = consistent ? this.resyncRun + 1 : 1;
      this.resyncAt = n;
      return this.resyncRun >= RESYNC_COUNT ? 'new' : 'out-of-window';
    }
    this.resyncRun = 0; // anything else in between: the far-ahead packets were not in a row
    if (n <= this.largest - DEDUP_WINDOW) return 'stale';
    if (n <= this.largest && this.seen[n % DEDUP_WINDOW]) return 'duplicate';
    return 'new';
  }

  /**
   * True when making packet `n` the ack anchor would put a packet no ack has reported yet more than 16 behind
   * it: an ack goes out first. (At 33 the packet would never be acknowledged; at 16 every packet of a burst
   * is covered by two acks, so a single lost ack costs no spurious retransmission.)
   */
  mustAckBefore(n: number): boolean {
    // Half the window: every packet of a burst then appears in two acks, so one lost ack loses nothing.
    return this.unreportedLow !== Infinity && (this.unreportedLow < n - 16 || this.unreportedHigh > n);
  }

  /**
   * Records a packet of `size` bytes that passed `check` and was accepted. `ack` says how soon it wants an ack:
   * 'none' (acks only), 'lazy' (nothing in it would be resent: within `delay`, riding on whatever goes out
   * first, and counted towards the byte rule only while an eager ack is owed) or 'eager' (reliable content:
   * within `delay`, at once past `ackBytes`). A packet out of order is acknowledged at once either way.
   */
  record(n: number, ack: AckUrgency, now: number, delay: number, size: number): void {
    const inOrder = n === this.largest + 1;
    if (n > this.largest) {
      const clearFrom = Math.max(this.largest + 1, n - DEDUP_WINDOW + 1);
      for (let i = clearFrom; i < n; i++) {
        this.seen[i % DEDUP_WINDOW] = 0;
        this.reported[i % DEDUP_WINDOW] = 0;
      }
      this.largest = n;
      this.resyncRun = 0;
    }
    this.anchor = n;
    this.anchorAt = now;
    this.anchorReported = false;
    this.seen[n % DEDUP_WINDOW] = 1;
    this.reported[n % DEDUP_WINDOW] = 0;
    if (n < this.unreportedLow) this.unreportedLow = n;
    if (n > this.unreportedHigh) this.unreportedHigh = n;
    this.count++;
    if (ack === 'none') {
      if (!inOrder) this.gapUnreported = true;
      return;
    }
    const gap = !inOrder || this.gapUnreported;
    this.gapUnreported = false;
    // A lazy packet counts towards the byte rule only once an eager ack is owed anyway.
    if (ack === 'eager' || this.elicitingBytes > 0) this.elicitingBytes += Math.max(1, size);
    const quick = ack === 'eager' && this.quickAcks > 0;
    if (quick) this.quickAcks--;
    if (gap) this.quickAcks = QUICK_ACKS_AFTER_GAP;
    if (gap || quick || this.elicitingBytes > this.ackBytes) this.ackDeadline = now;
    else this.ackDeadline = Math.min(this.ackDeadline, now + delay);
  }

  private has(n: number): boolean {
    return n >= 0 && n > this.largest - DEDUP_WINDOW && n <= this.largest && this.seen[n % DEDUP_WINDOW] === 1;
  }

  /** The ack to put on the next packet; undefined before anything was received. */
  ackInfo(now: number): AckInfo | undefined {
    if (this.anchor < 0) return undefined;
    let bits = 0;
    for (let i = 0; i < 32; i++) {
      const n = this.anchor - 1 - i;
      // Numbers before the peer's first packet (0) never existed: mark them received so their bytes elide.
      if (n < 0 || this.has(n)) bits |= 1 << i;
    }
    const info: AckInfo = { ack: wrap(this.anchor), bits: bits >>> 0 };
    if (!this.anchorReported) info.delay = Math.max(0, now - this.anchorAt);
    return info;
  }

  /** An ack went out: nothing is owed any more. Returns the packets it acknowledged first (for the trace). */
  onAckSent(collectNewlyAcked: boolean): number[] {
    this.elicitingBytes = 0;
    this.ackDeadline = Infinity;
    this.gapUnreported = false; // this ack shows the gap
    this.anchorReported = true;
    // Everything in the window is reported; anything outside it can no longer be (late reordering).
    this.unreportedLow = Infinity;
    this.unreportedHigh = -Infinity;
    if (!collectNewlyAcked) return [];
    const out: number[] = [];
    for (let n = Math.max(0, this.anchor - 32); n <= this.anchor; n++) {
      const i = n % DEDUP_WINDOW;
      if (this.has(n) && !this.reported[i]) {
        this.reported[i] = 1;
        out.push(n);
      }
    }
    return out;
  }

  /** When an ack-only packet must go out if nothing else does (Infinity: none owed). */
  get ackDue(): number {
    return this.ackDeadline;
  }
}
