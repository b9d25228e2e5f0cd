import { describe, expect, it } from 'vitest';
import { Random } from '../src/random.js';

const take = (rng: Random, n: number): number[] => Array.from({ length: n }, () => rng.nextU32());

describe('Random (seeded sfc32)', () => {
  it('gives the same stream for the same seed and a different one for another seed', () => {
    expect(take(new Random(42), 100)).toEqual(take(new Random(42), 100));
    expect(take(new Random(42), 100)).not.toEqual(take(new Random(43), 100));
    expect(new Random(42).seed).toBe(42);
  });

  it('pins the stream of seed 0 and 1 (a change here breaks every recorded simulation)', () => {
    // Reference: sfc32 seeded with four splitmix32 outputs, first 12 outputs discarded.
    expect(take(new Random(0), 4)).toEqual([548183886, 1097162541, 2219297441, 1664216021]);
    expect(take(new Random(1), 4)).toEqual([1130556604, 2591592147, 3014952990, 960850752]);
  });

  it('gives a well-spread stream even for seed 0 and small seeds', () => {
    for (const seed of [0, 1, -1, 2 ** 31 - 1]) {
      const values = take(new Random(seed), 1000);
      expect(new Set(values).size).toBe(1000);
      const ones = values.reduce((sum, v) => sum + popcount(v), 0) / (32 * 1000);
      expect(ones).toBeGreaterThan(0.48);
      expect(ones).toBeLessThan(0.52);
    }
  });

  it('uses the low 32 bits of the seed and rejects non-integers', () => {
    expect(take(new Random(2 ** 32 + 5), 8)).toEqual(take(new Random(5), 8));
    expect(take(new Random(-1), 8)).toEqual(take(new Random(2 ** 32 - 1), 8));
    expect(() => new Random(1.5)).toThrow(RangeError);
    expect(() => new Random(Number.NaN)).toThrow(/seed/);
  });

  it('float() is in [0, 1) with mean about 1/2', () => {
    const rng = new Random(7);
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = rng.float();
      sum += x;
      min = Math.min(min, x);
      max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('int(n) covers [0, n) evenly and validates n', () => {
    const rng = new Random(9);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]!++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(rng.int(1)).toBe(0);
    const big = rng.int(2 ** 32);
    expect(Number.isInteger(big) && big >= 0 && big < 2 ** 32).toBe(true);
    for (const bad of [0, -3, 2.5, Number.NaN, 2 ** 32 + 1]) expect(() => rng.int(bad)).toThrow(RangeError);
  });

  it('chance(p) hits about p of the time and always draws exactly one value', () => {
    const rng = new Random(11);
    let hits = 0;
    for (let i = 0; i < 50_000; i++) if (rng.chance(0.3)) hits++;
    expect(hits / 50_000).toBeGreaterThan(0.29);
    expect(hits / 50_000).toBeLessThan(0.31);

    const x = new Random(5);
    const y = new Random(5);
    expect(x.chance(0)).toBe(false);
    expect(y.chance(1)).toBe(true);
    expect(x.nextU32()).toBe(y.nextU32());
    for (const bad of [-0.1, 1.1, Number.NaN]) expect(() => x.chance(bad)).toThrow(RangeError);
  });
});

function popcount(v: number): number {
  let n = 0;
  for (let x = v; x !== 0; x >>>= 1) n += x & 1;
  return n;
}
