/** A min-heap of values by time. */

/**
 * A binary min-heap keyed by (time, insertion order): O(log n) push and pop, FIFO among equal times.
 * Used by the link simulator, the simulation loop and the endpoint's deadline queue.
 */
export class TimeHeap<T> {
  private readonly items: Array<{ time: number; seq: number; value: T }> = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  /** The earliest value; call only when size > 0. */
  peek(): T {
    return this.items[0]!.value;
  }

  /** Earliest time, Infinity when empty. */
  peekTime(): number {
    return this.items.length > 0 ? this.items[0]!.time : Infinity;
  }

  push(time: number, value: T): void {
    const items = this.items;
    const item = { time, seq: this.nextSeq++, value };
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!earlier(item, items[p]!)) break;
      items[i] = items[p]!;
      i = p;
    }
    items[i] = item;
  }

  /** Remove and return the earliest value; call only when size > 0. */
  pop(): T {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const child = l + 1 < n && earlier(items[l + 1]!, items[l]!) ? l + 1 : l;
        if (!earlier(items[child]!, last)) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top.value;
  }
}

function earlier(x: { time: number; seq: number }, y: { time: number; seq: number }): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
