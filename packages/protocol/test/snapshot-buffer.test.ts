/** SnapshotBuffer and lerp/lerpAngle: sampling between, before and past the snapshots, in any push order. */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lerp, lerpAngle, SnapshotBuffer } from '../src/index.js';

describe('SnapshotBuffer', () => {
  it('samples a linear motion exactly, whatever order the snapshots came in, and keeps at most capacity', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 10_000 }), { minLength: 2, maxLength: 80 }),
        fc.double({ min: -100, max: 10_100, noNaN: true }),
        fc.integer({ min: 2, max: 64 }),
        (times, t, capacity) => {
          const b = new SnapshotBuffer<number>(capacity);
          for (const time of times) b.push(time, time * 2); // value = 2 × time
          expect(b.size).toBeLessThanOrEqual(capacity);
          const kept = [...times].sort((x, y) => x - y).slice(-b.size);
          // Anything refused was older than everything kept.
          expect(b.oldest).toBe(kept[0]);
          expect(b.newest).toBe(kept[kept.length - 1]);
          const v = b.at(t, lerp)!;
          const clamped = Math.min(b.newest!, Math.max(b.oldest!, t));
          expect(v).toBeCloseTo(clamped * 2, 6);
          expect(b.last.beyond).toBeCloseTo(Math.max(0, t - b.newest!), 9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('extrapolates past the newest for at most maxExtrapolation, then holds there', () => {
    const b = new SnapshotBuffer<number>();
    b.push(0, 0);
    b.push(50, 5);
    expect(b.at(70, lerp, 100)).toBeCloseTo(7);
    expect(b.last.extrapolated).toBe(true);
    expect(b.at(500, lerp, 100)).toBeCloseTo(15); // 50 + 100 ms at 0.1 per ms
    expect(b.last.beyond).toBe(450);
    expect(b.at(500, lerp)).toBe(5); // no extrapolation: the newest is held
    expect(b.last.extrapolated).toBe(false);
  });

  it('replaces a snapshot of the same time, refuses non-finite times, and drops what sampling no longer needs', () => {
    const b = new SnapshotBuffer<string>(4);
    expect(b.push(Number.NaN, 'x')).toBe(false);
    expect(b.push(Infinity, 'x')).toBe(false);
    for (const [t, v] of [
      [10, 'a'],
      [20, 'b'],
      [20, 'B'],
      [30, 'c'],
    ] as const)
      b.push(t, v);
    expect(b.size).toBe(3);
    expect(b.at(20, (a) => a)).toBe('B');
    b.dropBefore(25);
    expect(b.oldest).toBe(20); // the one before 25 stays: 25 is sampled between it and 30
    expect(b.countAfter(25)).toBe(1);
    expect(() => new SnapshotBuffer(1)).toThrow(RangeError);
  });
});

describe('lerpAngle', () => {
  it('goes the short way round and stays in (-π, π]', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: -10, max: 10, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (a, b, alpha) => {
          const r = lerpAngle(a, b, alpha);
          expect(r).toBeGreaterThan(-Math.PI - 1e-9);
          expect(r).toBeLessThanOrEqual(Math.PI + 1e-9);
          // The distance travelled from a is alpha of the short distance (≤ π).
          const short = Math.abs(Math.atan2(Math.sin(b - a), Math.cos(b - a)));
          const moved = Math.abs(Math.atan2(Math.sin(r - a), Math.cos(r - a)));
          expect(moved).toBeCloseTo(alpha * short, 6);
        },
      ),
    );
    expect(lerpAngle(3, -3, 0.5)).toBeCloseTo(Math.PI, 6); // across ±π, not through 0
  });
});
