/**
 * What we have received from the peer: duplicate suppression over a window of recent packet numbers,
 * and the acknowledgement (newest packet + 32-bit bitfield + ack delay) to put on outgoing packets.
 *
 * Packet numbers are unwrapped to plain integers (sequence.ts), so the 16-bit wrap never shows here.
 * Ack timing (docs/protocol.md §4): an ack is owed once an ack-eliciting packet arrives; it goes out
 * at once after two such packets or an out-of-order one, otherwise within maxAckDelay.
 */

import { unwrap, wrap } from './sequence.js';
import type { AckInfo } from './header.js';

/** Packets older than this many behind the newest are dropped as stale (duplicates can't be told). */
export const DEDUP_WINDOW = 1024;
/** Packets more than this far ahead of the newest are refused as malformed (an honest peer can't be). */
export const MAX_SEQUENCE_JUMP = 16384;

export type ReceiveVerdict = 'new' | 'duplicate' | 'stale' | 'out-of-window';

export class ReceivedPackets {
  /** Newest packet number received (unwrapped); -1 before any. */
  largest = -1;
  private largestAt = 0;
  private largestReported = true;
  private readonly seen = new Uint8Array(DEDUP_WINDOW);
  private readonly reported = new Uint8Array(DEDUP_WINDOW);
  private elicitingUnacked = 0;
  private ackDeadline = Infinity;
  count = 0;

  /** Unwraps a 16-bit packet number against what we have received. */
  unwrap(seq: number): number {
    return unwrap(seq, this.largest < 0 ? 0 : this.largest);
  }

  /** Classifies an (unwrapped) packet number without recording it. */
  check(n: number): ReceiveVerdict {
    if (n < 0) return 'out-of-window';
    if (n > this.largest + MAX_SEQUENCE_JUMP) return 'out-of-window';
    if (n <= this.largest - DEDUP_WINDOW) return 'stale';
    if (n <= this.largest && this.seen[n % DEDUP_WINDOW]) return 'duplicate';
    return 'new';
  }

  /** Records a packet that passed `check` and was accepted. */
  record(n: number, ackEliciting: boolean, now: number, maxAckDelay: number): void {
    const inOrder = n === this.largest + 1;
    if (n > this.largest) {
      const clearFrom = Math.max(this.largest + 1, n - DEDUP_WINDOW + 1);
      for (let i = clearFrom; i < n; i++) {
        this.seen[i % DEDUP_WINDOW] = 0;
        this.reported[i % DEDUP_WINDOW] = 0;
      }
      this.largest = n;
      this.largestAt = now;
      this.largestReported = false;
    }
    this.seen[n % DEDUP_WINDOW] = 1;
    this.reported[n % DEDUP_WINDOW] = 0;
    this.count++;
    if (!ackEliciting) return;
    this.elicitingUnacked++;
    if (this.elicitingUnacked >= 2 || !inOrder) this.ackDeadline = now;
    else this.ackDeadline = Math.min(this.ackDeadline, now + maxAckDelay);
  }

  private has(n: number): boolean {
    return n >= 0 && n > this.largest - DEDUP_WINDOW && n <= this.largest && this.seen[n % DEDUP_WINDOW] === 1;
  }

  /** The ack to put on the next packet; undefined before anything was received. */
  ackInfo(now: number): AckInfo | undefined {
    if (this.largest < 0) return undefined;
    let bits = 0;
    for (let i = 0; i < 32; i++) {
      const n = this.largest - 1 - i;
      // Numbers before the peer's first packet (0) never existed: mark them received so their bytes elide.
      if (n < 0 || this.has(n)) bits |= 1 << i;
    }
    const info: AckInfo = { ack: wrap(this.largest), bits: bits >>> 0 };
    if (!this.largestReported) info.delay = Math.max(0, now - this.largestAt);
    return info;
  }

  /** An ack went out: nothing is owed any more. Returns the packets it acknowledged first (for the trace). */
  onAckSent(collectNewlyAcked: boolean): number[] {
    this.elicitingUnacked = 0;
    this.ackDeadline = Infinity;
    this.largestReported = true;
    if (!collectNewlyAcked) return [];
    const out: number[] = [];
    for (let n = Math.max(0, this.largest - 32); n <= this.largest; n++) {
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
