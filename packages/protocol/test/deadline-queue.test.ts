import { describe, expect, it } from 'vitest';
import { DeadlineQueue, Random } from '../src/index.js';

describe('DeadlineQueue', () => {
  it('hands out due items earliest first; rescheduling replaces, Infinity and remove() unschedule', () => {
    const q = new DeadlineQueue<string>();
    q.schedule('a', 30);
    q.schedule('b', 10);
    q.schedule('c', 20);
    q.schedule('a', 5);
    q.schedule('c', Infinity);
    expect(q.next()).toBe(5);
    expect(q.takeDue(15)).toEqual(['a', 'b']);
    expect(q.takeDue(100)).toEqual([]);
    q.schedule('d', 7);
    q.remove('d');
    expect(q.next()).toBe(Infinity);
    expect(q.size).toBe(0);
  });

  it('agrees with a plain map under random schedule / remove / take', () => {
    const rng = new Random(3);
    const q = new DeadlineQueue<number>();
    const model = new Map<number, number>();
    for (let step = 0, now = 0; step < 20_000; step++) {
      const item = rng.int(50);
      const r = rng.float();
      if (r < 0.5) {
        const t = now + rng.int(100);
        q.schedule(item, t);
        model.set(item, t);
      } else if (r < 0.6) {
        q.remove(item);
        model.delete(item);
      } else {
        now += rng.int(10);
        const due = [...model].filter(([, t]) => t <= now).sort((x, y) => x[1] - y[1]);
        const got = q.takeDue(now);
        expect(new Set(got)).toEqual(new Set(due.map(([i]) => i)));
        for (const i of got) model.delete(i);
      }
      expect(q.next()).toBe(model.size ? Math.min(...model.values()) : Infinity);
    }
  });
});
