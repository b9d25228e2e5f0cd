import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RttEstimator } from '../src/rtt-estimator.js';

describe('RttEstimator (RFC 9002 §5)', () => {
  it('uses initialRtt before any sample', () => {
    const r = new RttEstimator({ initialRtt: 100, maxAckDelay: 25 });
    expect(r.hasSample).toBe(false);
    expect(r.latest).toBe(100);
    expect(r.smoothed).toBe(100);
    expect(r.variance).toBe(50);
    expect(r.min).toBe(Infinity);
    expect(r.ptoBase()).toBe(100 + 200 + 25);
    expect(r.lossDelay()).toBe(112.5);
  });

  it('initialises from the first sample, its ack delay (clamped) taken off', () => {
    const r = new RttEstimator({ initialRtt: 100, maxAckDelay: 25 });
    r.addSample(90, 10);
    expect(r.hasSample).toBe(true);
    expect([r.latest, r.smoothed, r.variance, r.min]).toEqual([90, 80, 40, 80]);
    const held = new RttEstimator({ initialRtt: 100, maxAckDelay: 25 });
    held.addSample(130, 60); // held longer than promised: only 25 ms of it comes off
    expect([held.smoothed, held.min]).toEqual([105, 105]);
  });

  it('follows the §5.3 update rules (hand-computed)', () => {
    const r = new RttEstimator({ initialRtt: 100, maxAckDelay: 25 });
    r.addSample(80, 0);
    // ack delay 30 clamped to 25; 120 >= 80 + 25 so adjusted = 95.
    r.addSample(120, 30);
    expect(r.latest).toBe(120);
    expect(r.min).toBe(80);
    expect(r.variance).toBe(0.75 * 40 + 0.25 * 15); // 33.75
    expect(r.smoothed).toBe(0.875 * 80 + 0.125 * 95); // 81.875
    expect(r.ptoBase()).toBe(81.875 + 4 * 33.75 + 25);
    expect(r.lossDelay()).toBe((9 / 8) * 120);
    // 90 < 80 + 20: the ack delay is not subtracted.
    r.addSample(90, 20);
    expect(r.variance).toBeCloseTo(0.75 * 33.75 + 0.25 * 8.125, 12); // 27.34375
    expect(r.smoothed).toBeCloseTo(0.875 * 81.875 + 0.125 * 90, 12); // 82.890625
    // A new minimum: min_rtt uses the raw sample; 60 < 60 + 5 so adjusted = 60.
    r.addSample(60, 5);
    expect(r.min).toBe(60);
    expect(r.smoothed).toBeCloseTo(0.875 * 82.890625 + 0.125 * 60, 12);
    expect(r.lossDelay()).toBeCloseTo((9 / 8) * r.smoothed, 12);
  });

  it('ignores non-finite or negative samples and treats bad ack delays as 0', () => {
    const r = new RttEstimator({ initialRtt: 100, maxAckDelay: 25 });
    for (const bad of [NaN, -1, Infinity, -Infinity]) r.addSample(bad, 0);
    expect(r.hasSample).toBe(false);
    expect(r.smoothed).toBe(100);
    r.addSample(40, 0);
    r.addSample(Number.NaN, 0);
    expect([r.latest, r.smoothed, r.variance]).toEqual([40, 40, 20]);
    r.addSample(80, NaN);
    expect(r.smoothed).toBe(0.875 * 40 + 0.125 * 80);
    const s = new RttEstimator({ initialRtt: 100, maxAckDelay: 25 });
    s.addSample(40, 0);
    s.addSample(80, -50);
    expect(s.smoothed).toBe(r.smoothed);
  });

  it('a peer lying about its ack delays cannot pull the probe timeout under the path round trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 300 })), { minLength: 1, maxLength: 40 }),
        (path, announced, acks) => {
          const r = new RttEstimator({ initialRtt: 100, maxAckDelay: announced });
          for (const [held, claimed] of acks) {
            r.addSample(path + held, claimed); // a sample is never under the path; the claimed delay is anything
            expect(r.ptoBase()).toBeGreaterThanOrEqual(path);
            expect(r.lossDelay()).toBeGreaterThanOrEqual((9 / 8) * path);
            expect(r.smoothed).toBeGreaterThanOrEqual(path - announced);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('floors the variance term and loss delay at the timer granularity', () => {
    const r = new RttEstimator({ initialRtt: 100, maxAckDelay: 10, granularity: 5 });
    r.addSample(0, 0);
    expect(r.ptoBase()).toBe(0 + 5 + 10);
    expect(r.lossDelay()).toBe(5);
    const d = new RttEstimator({ initialRtt: 100, maxAckDelay: 0 });
    d.addSample(0, 0);
    expect(d.ptoBase()).toBe(1);
    expect(d.lossDelay()).toBe(1);
  });
});
