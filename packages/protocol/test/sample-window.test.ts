import { describe, expect, it } from 'vitest';
import { SampleWindow } from '../src/sample-window.js';

describe('SampleWindow', () => {
  it('is empty at first', () => {
    const w = new SampleWindow(4);
    expect(w.count).toBe(0);
    expect(w.summary()).toBeUndefined();
  });

  it('computes nearest-rank percentiles on known data', () => {
    const w = new SampleWindow(100);
    // 1..100 in a scrambled order (37 is coprime with 100).
    for (let i = 0; i < 100; i++) w.add(((i * 37) % 100) + 1);
    const s = w.summary()!;
    expect(s).toMatchObject({ count: 100, min: 1, max: 100, avg: 50.5, p50: 50, p95: 95, p99: 99 });
    expect(s.last).toBe(((99 * 37) % 100) + 1);

    const small = new SampleWindow(8);
    for (const v of [35, 20, 50, 15, 40]) small.add(v);
    expect(small.summary()).toEqual({ count: 5, last: 40, min: 15, avg: 32, max: 50, p50: 35, p95: 50, p99: 50 });
  });

  it('a single sample is every statistic', () => {
    const w = new SampleWindow(3);
    w.add(7);
    expect(w.summary()).toEqual({ count: 1, last: 7, min: 7, avg: 7, max: 7, p50: 7, p95: 7, p99: 7 });
  });

  it('evicts the oldest samples once full', () => {
    const w = new SampleWindow(3);
    for (const v of [100, 1, 2, 3, 4, 5]) w.add(v);
    expect(w.count).toBe(3);
    expect(w.summary()).toEqual({ count: 3, last: 5, min: 3, avg: 4, max: 5, p50: 4, p95: 5, p99: 5 });
  });

  it('ignores non-finite values and can be cleared', () => {
    const w = new SampleWindow(3);
    w.add(NaN);
    w.add(Infinity);
    w.add(-Infinity);
    expect(w.count).toBe(0);
    w.add(-2);
    w.add(0);
    expect(w.summary()).toMatchObject({ count: 2, min: -2, max: 0, last: 0 });
    w.clear();
    expect(w.count).toBe(0);
    expect(w.summary()).toBeUndefined();
    w.add(9);
    expect(w.summary()?.last).toBe(9);
  });

  it('rejects a non-positive capacity', () => {
    expect(() => new SampleWindow(0)).toThrow(RangeError);
    expect(() => new SampleWindow(1.5)).toThrow(RangeError);
  });
});
