import { describe, expect, it } from 'vitest';
import { RateMeter } from '../src/rate-meter.js';

describe('RateMeter', () => {
  it('sums the last second and forgets older buckets', () => {
    const m = new RateMeter();
    m.add(0, 100);
    m.add(450, 50);
    expect(m.perSecond(500)).toBe(150);
    expect(m.perSecond(1050)).toBe(50); // the bucket of t=0 has left the window
    expect(m.perSecond(5000)).toBe(0);
    m.add(5000, 7);
    expect(m.perSecond(5000)).toBe(7);
    expect(m.total).toBe(157);
  });
});
