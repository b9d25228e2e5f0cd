/**
 * The receiver's replay window over packet numbers (RFC 4303 §3.4.3 style, as in netcode.io and WireGuard):
 * a pn is taken once, if it is within WINDOW of the largest one taken. Check with `fresh()` before spending
 * the cost of opening a frame and `take()` only once it proved authentic, so forged frames cannot move it.
 */

export const REPLAY_WINDOW = 1024;

export class ReplayWindow {
  private largest = -1;
  private readonly seen = new Uint8Array(REPLAY_WINDOW);

  /** The largest pn taken so far (-1: none). */
  get highest(): number {
    return this.largest;
  }

  /** Whether `pn` would be taken: not seen before and not older than the window. */
  fresh(pn: number): boolean {
    if (pn > this.largest) return true;
    if (pn <= this.largest - REPLAY_WINDOW) return false;
    return this.seen[pn % REPLAY_WINDOW] === 0;
  }

  /** Takes `pn` (call fresh() first); returns false if it was not fresh. */
  take(pn: number): boolean {
    if (!this.fresh(pn)) return false;
    if (pn > this.largest) {
      const from = Math.max(this.largest + 1, pn - REPLAY_WINDOW + 1);
      for (let p = from; p < pn; p++) this.seen[p % REPLAY_WINDOW] = 0;
      this.largest = pn;
    }
    this.seen[pn % REPLAY_WINDOW] = 1;
    return true;
  }
}
