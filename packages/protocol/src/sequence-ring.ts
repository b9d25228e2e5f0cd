/**
 * A map from consecutive integers (unwrapped packet numbers, message ids) to values, as a growable ring.
 * Keys mostly arrive at the top (a key below the lowest one held is also taken: the ring extends downwards,
 * as messages that arrive out of order need) and leave from anywhere; the ring trims empty slots at the
 * bottom. Its slots span the lowest to the highest key held: the caller bounds that span.
 * It replaces a JS Map on the hottest paths: no per-entry allocation, and no hash-table churn that keeps
 * tenured tables alive through minor GCs (measured: ~2.5× messages per second, see docs/architecture.md).
 */

export class SequenceRing<T> {
  private slots: (T | undefined)[] = new Array(64);
  private mask = 63;
  /** Index of `base` in `slots`. */
  private head = 0;
  /** Smallest key still held (or the next key when empty). */
  private base = 0;
  /** Keys base … base + span − 1 have slots (some may be empty). */
  private span = 0;
  /** Values held. */
  size = 0;

  /** Stores `value` at `key`. */
  set(key: number, value: T): void {
    if (this.size === 0) {
      this.base = key;
      this.span = 0;
    }
    if (key < this.base) {
      const shift = this.base - key;
      while (this.span + shift > this.slots.length) this.grow();
      this.head = (this.head - shift) & this.mask;
      this.base = key;
      this.span += shift;
    }
    const offset = key - this.base;
    while (offset >= this.slots.length) this.grow();
    const i = (this.head + offset) & this.mask;
    if (this.slots[i] === undefined) this.size++;
    this.slots[i] = value;
    if (offset >= this.span) this.span = offset + 1;
  }

  get(key: number): T | undefined {
    const offset = key - this.base;
    if (offset < 0 || offset >= this.span) return undefined;
    return this.slots[(this.head + offset) & this.mask];
  }

  /** Removes and returns the value at `key`. */
  take(key: number): T | undefined {
    const offset = key - this.base;
    if (offset < 0 || offset >= this.span) return undefined;
    const i = (this.head + offset) & this.mask;
    const v = this.slots[i];
    if (v === undefined) return undefined;
    this.slots[i] = undefined;
    this.size--;
    // Trim empty slots at the bottom.
    while (this.span > 0 && this.slots[this.head] === undefined) {
      this.head = (this.head + 1) & this.mask;
      this.base++;
      this.span--;
    }
    return v;
  }

  /** Values in key order. */
  *values(): IterableIterator<T> {
    for (let k = 0; k < this.span; k++) {
      const v = this.slots[(this.head + k) & this.mask];
      if (v !== undefined) yield v;
    }
  }

  clear(): void {
    this.slots.fill(undefined);
    this.size = 0;
    this.span = 0;
    this.head = 0;
  }

  private grow(): void {
    const old = this.slots;
    const next: (T | undefined)[] = new Array(old.length * 2);
    for (let k = 0; k < this.span; k++) next[k] = old[(this.head + k) & this.mask];
    this.slots = next;
    this.mask = next.length - 1;
    this.head = 0;
  }
}
