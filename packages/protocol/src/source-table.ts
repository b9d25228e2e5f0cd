/**
 * The server endpoint's bookkeeping per source: the host's key for where a link comes from (the server uses
 * the client's IP address; the endpoint only compares keys). For each source: its links still in their
 * handshake, its sessions, a token bucket of new sessions and a budget for its handshake datagrams.
 *
 * Bounded: an entry exists while its source has a link in handshake or a session, and after that only until
 * its buckets are full again (a source that comes back sooner must not find fresh buckets). The endpoint
 * schedules that check (`fullAt`) and calls `sweep`.
 */

import { BURST_SECONDS, DatagramBudget, type DatagramRates } from './datagram-budget.js';
import { TokenBucket } from './token-bucket.js';

export interface SourceLimits {
  /** Sessions (pending, connected or closing) one source may have at once. */
  maxSessionsPerSource: number;
  /** Links one source may have that have not said CONNECT or RESUME yet. */
  maxPendingLinksPerSource: number;
  /** New sessions per second one source may start (bursts of BURST_SECONDS). */
  newSessionsPerSecondPerSource: number;
  /** What the datagrams on a source's links in handshake may cost, together. */
  handshake: DatagramRates;
}

export class SourceEntry {
  /** Links of this source not bound to a session yet. */
  pendingLinks = 0;
  /** Sessions started from this source, not ended yet. */
  sessions = 0;
  readonly newSessions: TokenBucket;
  readonly handshake: DatagramBudget;

  constructor(limits: SourceLimits, now: number) {
    const rate = limits.newSessionsPerSecondPerSource;
    this.newSessions = new TokenBucket(rate, rate * BURST_SECONDS, now);
    this.handshake = new DatagramBudget(limits.handshake, now);
  }

  /** Nothing of this source is in the endpoint's tables. */
  get idle(): boolean {
    return this.pendingLinks === 0 && this.sessions === 0;
  }

  /** When every bucket is full again (absolute ms). */
  fullAt(now: number): number {
    return Math.max(this.newSessions.fullAt(now), this.handshake.fullAt(now));
  }
}

export class SourceTable {
  private readonly entries = new Map<string, SourceEntry>();

  constructor(readonly limits: SourceLimits) {}

  /** Sources remembered now. */
  get size(): number {
    return this.entries.size;
  }

  get(source: string): SourceEntry | undefined {
    return this.entries.get(source);
  }

  /** The entry of `source`, made (with full buckets) if there is none. */
  entry(source: string, now: number): SourceEntry {
    let e = this.entries.get(source);
    if (!e) {
      e = new SourceEntry(this.limits, now);
      this.entries.set(source, e);
    }
    return e;
  }

  /**
   * Forgets `source` if it is idle and its buckets are full at `now`. Returns when to look again (an idle
   * entry whose buckets are not full yet), else undefined (forgotten, unknown, or in use: it is looked at
   * again when it next becomes idle).
   */
  sweep(source: string, now: number): number | undefined {
    const e = this.entries.get(source);
    if (!e || !e.idle) return undefined;
    const full = e.fullAt(now);
    if (full > now + 1) return full; // within a millisecond of full counts as full (no chase of rounding)
    this.entries.delete(source);
    return undefined;
  }
}
