/**
 * The pending-slot accounting of the WebRTC transport (webrtc.ts, `maxPending` and `maxPendingPerSource`):
 * how many peer connections are in setup, in all and per source address.
 *
 * A slot is taken at the moment an offer is admitted (reserve(), before geckos starts creating the peer
 * connection, which takes tens of milliseconds and runs concurrently with other offers), so the check and
 * the count are one step: however many offers arrive at once, no more than `max` peer connections are
 * being created or waiting for their data channel. The slot is given back (release(), once) when the
 * peer connection opens or closes, or when geckos answered the offer without making one.
 */

/** One admitted offer's place in setup. */
export interface PendingSlot {
  readonly source: string;
  /** Still counted (release() clears it). */
  held: boolean;
  /** A peer connection took it over (it releases the slot; the offer request no longer does). */
  claimed: boolean;
}

export type Refusal = 'busy' | 'source-busy';

export class PendingSlots {
  private total = 0;
  private readonly perSource = new Map<string, number>();

  constructor(
    readonly max: number,
    readonly maxPerSource: number,
  ) {}

  /** A slot for an offer from `source`, or why not: 'busy' (max in setup) or 'source-busy' (maxPerSource from it). */
  reserve(source: string): PendingSlot | Refusal {
    if (this.total >= this.max) return 'busy';
    const fromSource = this.perSource.get(source) ?? 0;
    if (fromSource >= this.maxPerSource) return 'source-busy';
    this.total++;
    this.perSource.set(source, fromSource + 1);
    return { source, held: true, claimed: false };
  }

  /** Gives `slot` back; only the first call counts. */
  release(slot: PendingSlot): void {
    if (!slot.held) return;
    slot.held = false;
    this.total--;
    const left = (this.perSource.get(slot.source) ?? 1) - 1;
    if (left > 0) this.perSource.set(slot.source, left);
    else this.perSource.delete(slot.source);
  }

  /** Slots held now: peer connections being created or in setup. */
  get inUse(): number {
    return this.total;
  }

  /** Slots held now by `source`. */
  of(source: string): number {
    return this.perSource.get(source) ?? 0;
  }
}
