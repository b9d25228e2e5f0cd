/**
 * Lag compensation: a target strafing at constant speed, recorded every tick; a rewind to any view time
 * within maxRewind finds it where it was then, one further back is clamped (and says so).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lerp } from '@volley/protocol';
import { LagCompensation } from '../src/index.js';

interface Box {
  x: number;
  y: number;
  r: number;
}
const between = (a: Box, b: Box, t: number): Box => ({ x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t), r: a.r });
const TICK = 1000 / 60;
/** The target strafes: ±x at 0.3 per ms, turning every 400 ms. */
const strafe = (t: number) => {
  const leg = Math.floor(t / 400);
  const into = t - leg * 400;
  const base = leg % 2 === 0 ? 0 : 120;
  return leg % 2 === 0 ? base + into * 0.3 : base - into * 0.3;
};

describe('LagCompensation', () => {
  it('finds a strafing target where it was at any view time within maxRewind', () => {
    const lag = new LagCompensation<Box>({ interpolate: between, maxRewind: 250 });
    let now = 0;
    for (let tick = 0; tick <= 180; tick++) {
      now = tick * TICK;
      lag.record(now, [
        ['target', { x: strafe(now), y: 0, r: 10 }],
        ['other', { x: 0, y: 50, r: 10 }],
      ]);
    }
    fc.assert(
      fc.property(fc.double({ min: 0, max: 250, noNaN: true }), (back) => {
        const r = lag.rewind(now - back, now);
        expect(r.clamped).toBe(false);
        expect(r.rewound).toBeCloseTo(back, 9);
        // Between two ticks the target moved linearly, except across a turn: within one tick's motion.
        expect(Math.abs(r.hitboxes.get('target')!.x - strafe(now - back))).toBeLessThanOrEqual(0.3 * TICK);
        expect(r.hitboxes.get('other')).toEqual({ x: 0, y: 50, r: 10 });
      }),
    );
  });

  it('clamps a view time further back than maxRewind, or ahead of now, or not a number', () => {
    const lag = new LagCompensation<Box>({ interpolate: between, maxRewind: 100 });
    for (let t = 0; t <= 1000; t += 10) lag.record(t, [['a', { x: t, y: 0, r: 1 }]]);
    expect(lag.rewind(200, 1000)).toMatchObject({ time: 900, rewound: 100, clamped: true });
    expect(lag.rewind(200, 1000).hitboxes.get('a')!.x).toBe(900);
    expect(lag.rewind(5000, 1000)).toMatchObject({ time: 1000, rewound: 0, clamped: true });
    expect(lag.rewind(Number.NaN, 1000)).toMatchObject({ time: 1000, clamped: true });
    expect(lag.rewind(950, 1000)).toMatchObject({ time: 950, rewound: 50, clamped: false });
  });

  it('an entity that joined between two records is taken as first seen; an empty history has no hitboxes', () => {
    const lag = new LagCompensation<Box>({ interpolate: between });
    expect(lag.rewind(0, 0).hitboxes.size).toBe(0);
    lag.record(0, [['a', { x: 0, y: 0, r: 1 }]]);
    lag.record(10, [
      ['a', { x: 10, y: 0, r: 1 }],
      ['b', { x: 5, y: 5, r: 1 }],
    ]);
    const r = lag.rewind(5, 10);
    expect(r.hitboxes.get('a')!.x).toBe(5);
    expect(r.hitboxes.get('b')).toEqual({ x: 5, y: 5, r: 1 });
    expect(() => new LagCompensation<Box>({ interpolate: between, maxRewind: -1 })).toThrow(RangeError);
  });
});
