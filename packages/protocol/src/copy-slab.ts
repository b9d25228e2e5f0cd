/**
 * Where a send channel keeps its copy of each message: small messages are copied side by side into a 2 KB
 * slab and held as views of it, so a send allocates a view instead of a whole new buffer. A slab is freed (by
 * the garbage collector) once no message in it is held any more. One slab per channel: a channel holds its
 * messages from the oldest unacknowledged one on, at most its window, so what a peer that withholds acks can
 * keep alive is that span's bytes and two slabs, not a slab per held message. Messages over a quarter of a
 * slab get a buffer of their own.
 */

export const SLAB_SIZE = 2048;
const OWN_BUFFER_OVER = SLAB_SIZE / 4;

export class CopySlab {
  private slab = new Uint8Array(0);
  private used = 0;

  /** A copy of `data` that the caller may keep (never changed by a later copy). */
  copy(data: Uint8Array): Uint8Array {
    const n = data.length;
    if (n > OWN_BUFFER_OVER) return data.slice();
    if (this.used + n > this.slab.length) {
      this.slab = new Uint8Array(SLAB_SIZE);
      this.used = 0;
    }
    const view = this.slab.subarray(this.used, this.used + n);
    view.set(data);
    this.used += n;
    return view;
  }
}
