import { describe, expect, it } from 'vitest';
import { Random } from '../src/random.js';
import { SequenceRing } from '../src/sequence-ring.js';

describe('SequenceRing', () => {
  it('maps consecutive keys, skips holes, trims from the bottom, grows past its capacity', () => {
    const r = new SequenceRing<string>();
    for (let k = 100; k < 300; k += 2) r.set(k, `v${k}`); // holes at odd keys; grows from 64 slots
    expect(r.size).toBe(100);
    expect(r.get(100)).toBe('v100');
    expect(r.get(101)).toBeUndefined();
    expect(r.take(150)).toBe('v150');
    expect(r.take(150)).toBeUndefined();
    expect(r.take(100)).toBe('v100');
    expect([...r.values()].slice(0, 2)).toEqual(['v102', 'v104']);
    r.set(50, 'below'); // below the lowest key held: the ring extends downwards (and grows to span 50…298)
    expect(r.get(50)).toBe('below');
    expect(r.get(102)).toBe('v102');
    expect([...r.values()].slice(0, 2)).toEqual(['below', 'v102']);
    expect(r.take(50)).toBe('below');
    expect(r.size).toBe(98);
    r.clear();
    expect(r.size).toBe(0);
    r.set(5000, 'again');
    expect([...r.values()]).toEqual(['again']);
  });

  it('behaves like a Map when keys arrive out of order within a window, as an ordered receiver sees them', () => {
    const rng = new Random(11);
    const ring = new SequenceRing<number>();
    const map = new Map<number, number>();
    let next = 0; // the receiver's next id: everything held is in next … next + 200
    for (let step = 0; step < 50_000; step++) {
      if (rng.chance(0.6)) {
        const k = next + 1 + rng.int(200);
        ring.set(k, k);
        map.set(k, k);
      } else {
        while (map.has(next) || rng.chance(0.5)) {
          expect(ring.take(next)).toBe(map.get(next));
          map.delete(next);
          next++;
        }
      }
      expect(ring.size).toBe(map.size);
      const probe = next + rng.int(220);
      expect(ring.get(probe)).toBe(map.get(probe));
    }
    expect([...ring.values()]).toEqual([...map.values()].sort((a, b) => a - b));
  });

  it('behaves like a Map under random insert-at-top / remove-anywhere', () => {
    const rng = new Random(7);
    const ring = new SequenceRing<number>();
    const map = new Map<number, number>();
    let next = 0;
    for (let step = 0; step < 50_000; step++) {
      if (rng.chance(0.55) || map.size === 0) {
        next += 1 + rng.int(3);
        ring.set(next, next);
        map.set(next, next);
      } else {
        const keys = [...map.keys()];
        const k = rng.chance(0.5) ? keys[0]! : keys[rng.int(keys.length)]!;
        expect(ring.take(k)).toBe(map.get(k));
        map.delete(k);
      }
      expect(ring.size).toBe(map.size);
    }
    expect([...ring.values()]).toEqual([...map.values()].sort((a, b) => a - b));
  });
});
