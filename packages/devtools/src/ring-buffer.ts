/**
 * A fixed number of the latest samples (numbers), oldest overwritten first: what the net graph keeps for
 * its graphs and its report. Allocates once; pushing and reading allocate nothing.
 */

export class RingBuffer {
  private readonly values: Float64Array;
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be an integer ≥ 1, got ${capacity}`);
    this.values = new Float64Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  push(v: number): void {
    const end = (this.start + this.count) % this.capacity;
    this.values[end] = v;
    if (this.count < this.capacity) this.count++;
    else this.start = (this.start + 1) % this.capacity;
  }

  /** The i-th oldest sample held (0 ≤ i < size). */
  at(i: number): number {
    return this.values[(this.start + i) % this.capacity]!;
  }

  /** The newest sample, or NaN when empty. */
  get last(): number {
    return this.count === 0 ? Number.NaN : this.at(this.count - 1);
  }

  clear(): void {
    this.start = this.count = 0;
  }
}
