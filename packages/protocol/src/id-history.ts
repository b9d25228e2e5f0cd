/**
 * Where each channel's message ids stood, packet by packet, so that the 16-bit ids of a *late* packet are
 * unwrapped against ids of its own time rather than today's.
 *
 * Why: a packet can be up to DEDUP_WINDOW (4096) packets late and still be accepted, but with hundreds of
 * small messages per packet the ids wrap 65536 much sooner; unwrapped against the current position, a stale
 * copy's old ids would look like future ones. Every BLOCK packets we checkpoint each channel's highest id;
 * a late packet's ids unwrap against the checkpoint of its block (ids move at most ~600 per packet at MTU 1200,
 * so within a block they stay far inside the ±32768 an unwrap tolerates).
 */

import { DEDUP_WINDOW } from './received-packets.js';

const BLOCK = 16;
const BLOCKS = DEDUP_WINDOW / BLOCK;
/** How many blocks back to look when a late packet's own block has no checkpoint (all its packets lost). */
const LOOK_BACK = 4;

export class IdHistory {
  /** Block number of each checkpoint slot (-1: empty). */
  private readonly block = new Float64Array(BLOCKS).fill(-1);
  /** Highest id per channel at the checkpoint, BLOCKS × channels. */
  private readonly ids: Float64Array;

  constructor(private readonly channels: number) {
    this.ids = new Float64Array(BLOCKS * channels);
  }

  /** After packet `n` was accepted: checkpoint its block if not done yet. */
  record(n: number, highest: (channel: number) => number): void {
    const b = Math.floor(n / BLOCK);
    const slot = b % BLOCKS;
    if (this.block[slot] === b) return;
    this.block[slot] = b;
    for (let ch = 0; ch < this.channels; ch++) this.ids[slot * this.channels + ch] = highest(ch);
  }

  /**
   * Unwrap references for a packet `n` that is `lateness` packets behind the newest: undefined when it is
   * recent (the receivers' own position is the right reference) or no checkpoint is near enough.
   */
  references(n: number, lateness: number): ((channel: number) => number) | undefined {
    if (lateness <= BLOCK) return undefined;
    const b = Math.floor(n / BLOCK);
    for (let k = b; k >= 0 && k > b - LOOK_BACK; k--) {
      const slot = k % BLOCKS;
      if (this.block[slot] !== k) continue;
      return (ch) => this.ids[slot * this.channels + ch]!;
    }
    return undefined;
  }
}
