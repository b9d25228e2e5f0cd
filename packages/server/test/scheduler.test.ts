import { describe, expect, it } from 'vitest';
import { Scheduler } from '../src/scheduler.js';

describe('Scheduler', () => {
  it('fires each item once at its latest scheduled time, in time order', async () => {
    const fired: string[] = [];
    const s = new Scheduler<string>(() => performance.now(), (item) => void fired.push(item));
    const t = performance.now();
    s.schedule('b', t + 30);
    s.schedule('a', t + 10);
    s.schedule('c', t + 20);
    s.schedule('c', t + 5); // rescheduled earlier: the old entry is ignored
    s.schedule('d', t + 15);
    s.remove('d');
    for (let i = 0; i < 100; i++) s.schedule('a', t + 10); // unchanged time: no new heap entries
    await new Promise((r) => setTimeout(r, 80));
    expect(fired).toEqual(['c', 'a', 'b']);
    s.stop();
  });
});
