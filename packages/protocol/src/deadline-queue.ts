/**
 * Deadlines for many items (sessions, links): each item has at most one deadline; rescheduling replaces it.
 * A min-heap with lazy deletion: O(log n) schedule, stale entries skipped when they reach the top.
 */

import { TimeHeap } from './time-heap.js';

export class DeadlineQueue<K> {
  private readonly heap = new TimeHeap<{ item: K; version: number }>();
  private readonly current = new Map<K, { time: number; version: number }>();
  private versions = 0;

  /** Sets `item`'s deadline (absolute ms); Infinity removes it. Unchanged deadlines cost nothing. */
  schedule(item: K, time: number): void {
    const known = this.current.get(item);
    if (known?.time === time) return;
    if (time === Infinity) {
      this.current.delete(item);
      return;
    }
    const version = ++this.versions;
    this.current.set(item, { time, version });
    this.heap.push(time, { item, version });
  }

  remove(item: K): void {
    this.current.delete(item);
  }

  /** The deadline of `item` (Infinity: none). */
  deadline(item: K): number {
    return this.current.get(item)?.time ?? Infinity;
  }

  /** The earliest deadline (Infinity: none). */
  next(): number {
    this.skipStale();
    return this.heap.peekTime();
  }

  /** Removes and returns every item whose deadline is at or before `now`, earliest first. */
  takeDue(now: number): K[] {
    const due: K[] = [];
    for (this.skipStale(); this.heap.size > 0 && this.heap.peekTime() <= now; this.skipStale()) {
      const { item } = this.heap.pop();
      this.current.delete(item);
      due.push(item);
    }
    return due;
  }

  get size(): number {
    return this.current.size;
  }

  private skipStale(): void {
    while (this.heap.size > 0) {
      const top = this.heap.peek();
      if (this.current.get(top.item)?.version === top.version) return;
      this.heap.pop();
    }
  }
}
