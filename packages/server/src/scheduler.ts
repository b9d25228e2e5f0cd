/**
 * One timer for every session's protocol timers: each session says when it next needs a poll
 * (Connection.nextTimeout()); a min-heap keeps the earliest, one setTimeout waits for it.
 */

interface Entry<T> {
  time: number;
  item: T;
  version: number;
}

export class Scheduler<T> {
  private heap: Entry<T>[] = [];
  private readonly versions = new Map<T, number>();
  private readonly times = new Map<T, number>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly clock: () => number,
    private readonly fire: (item: T, now: number) => void,
  ) {}

  /** (Re)schedules `item` at absolute `time` (ms on the clock); Infinity unschedules it. */
  schedule(item: T, time: number): void {
    // Most pumps leave the wake-up time unchanged: then the entry already in the heap stands.
    if (this.times.get(item) === time && this.versions.has(item)) return;
    this.times.set(item, time);
    const version = (this.versions.get(item) ?? 0) + 1;
    this.versions.set(item, version);
    if (time === Infinity) return;
    this.push({ time, item, version });
    if (time < this.armedFor) this.arm();
  }

  remove(item: T): void {
    this.versions.delete(item);
    this.times.delete(item);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    this.heap = [];
    this.versions.clear();
    this.times.clear();
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    const next = this.heap[0];
    this.armedFor = next ? next.time : Infinity;
    if (!next) {
      this.timer = undefined;
      return;
    }
    this.timer = setTimeout(() => this.run(), Math.max(0, Math.ceil(next.time - this.clock())));
  }

  private run(): void {
    this.timer = undefined;
    const now = this.clock();
    // Bounded: each item fires at most once per run (its fire() reschedules it for later).
    for (let guard = this.heap.length; guard > 0 && this.heap.length > 0 && this.heap[0]!.time <= now; guard--) {
      const e = this.pop()!;
      if (this.versions.get(e.item) !== e.version) continue;
      this.versions.set(e.item, e.version + 1);
      this.times.delete(e.item);
      this.fire(e.item, now);
    }
    this.arm();
  }

  private push(e: Entry<T>): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.time <= e.time) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  private pop(): Entry<T> | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (!top || !last || h.length === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && h[l + 1]!.time < h[l]!.time ? l + 1 : l;
      if (h[c]!.time >= last.time) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = last;
    return top;
  }
}
