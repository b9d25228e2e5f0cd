/** ServerClock: follows a jumpy estimate of the server's clock without going back or jumping (small errors). */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ServerClock } from '../src/index.js';

describe('ServerClock', () => {
  it('never goes back, runs within slew of real time while catching up, and converges on the estimate', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -200, max: 200 }), { minLength: 1, maxLength: 10 }), (jumps) => {
        let local = 0;
        let offset = 1000;
        const clock = new ServerClock(
          () => local + offset,
          () => local,
          { slew: 0.05, snap: 250 },
        );
        let last = clock.now();
        for (const jump of jumps) {
          offset += jump; // a new offset estimate, up to 200 ms either way (under snap): absorbed within 4 s
          for (let i = 0; i < 260; i++) {
            local += 16;
            const now = clock.now();
            expect(now).toBeGreaterThanOrEqual(last);
            expect(now - last).toBeLessThanOrEqual(16 * 1.05 + 1e-9);
            last = now;
          }
        }
        for (let i = 0; i < 2000; i++) {
          local += 16;
          last = clock.now();
        }
        expect(Math.abs(last - (local + offset))).toBeLessThan(1e-6);
      }),
    );
  });

  it('takes a jump forward past snap at once, and counts ticks', () => {
    let local = 0;
    let offset = 0;
    const clock = new ServerClock(
      () => local + offset,
      () => local,
    );
    expect(clock.now()).toBe(0);
    offset = 5000;
    local = 10;
    expect(clock.now()).toBe(5010);
    expect(clock.tick(50)).toBe(100);
    expect(
      () =>
        new ServerClock(
          () => 0,
          () => 0,
          { slew: 1 },
        ),
    ).toThrow(RangeError);
  });
});
