/**
 * What inbound datagrams may cost per second: a count and their bytes on the wire, each a token bucket with
 * `BURST_SECONDS` of burst. One per session (every datagram routed to it) and one per source for links
 * still in their handshake (server-endpoint.ts).
 */

import { TokenBucket } from './token-bucket.js';

/** Every rate limit of the server endpoint allows this many seconds' worth at once. */
export const BURST_SECONDS = 2;

export interface DatagramRates {
  packetsPerSecond: number;
  bytesPerSecond: number;
}

export class DatagramBudget {
  private readonly packets: TokenBucket;
  private readonly bytes: TokenBucket;

  constructor(
    readonly rates: DatagramRates,
    now: number,
  ) {
    this.packets = new TokenBucket(rates.packetsPerSecond, rates.packetsPerSecond * BURST_SECONDS, now);
    this.bytes = new TokenBucket(rates.bytesPerSecond, rates.bytesPerSecond * BURST_SECONDS, now);
  }

  /** Takes one datagram of `size` bytes; the limit it would pass (nothing taken then), or undefined. */
  take(size: number, now: number): 'packets' | 'bytes' | undefined {
    if (this.packets.available(now) < 1) return 'packets';
    if (!this.bytes.take(size, now)) return 'bytes';
    this.packets.take(1, now);
    return undefined;
  }

  /** When both buckets are full again if nothing more is taken (absolute ms). */
  fullAt(now: number): number {
    return Math.max(this.packets.fullAt(now), this.bytes.fullAt(now));
  }

  /** Why a datagram was refused, for the reason text a client sees (short: a REJECT's text must fit its CONNECT). */
  describe(limit: 'packets' | 'bytes'): string {
    return limit === 'packets' ? `over ${this.rates.packetsPerSecond} datagrams/s` : `over ${this.rates.bytesPerSecond} bytes/s`;
  }
}
