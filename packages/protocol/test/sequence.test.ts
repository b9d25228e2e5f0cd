import { describe, expect, it } from 'vitest';
import { seqAdd, seqDiff, seqGreater, seqLess, unwrap, wrap } from '../src/sequence.js';

describe('16-bit serial arithmetic (RFC 1982)', () => {
  it('orders numbers near 0', () => {
    expect(seqLess(0, 1)).toBe(true);
    expect(seqGreater(1, 0)).toBe(true);
    expect(seqDiff(5, 5)).toBe(0);
  });
  it('orders across the wrap: 65535 is just before 0', () => {
    expect(seqLess(65535, 0)).toBe(true);
    expect(seqGreater(0, 65535)).toBe(true);
    expect(seqDiff(0, 65535)).toBe(1);
    expect(seqDiff(65535, 0)).toBe(-1);
    expect(seqAdd(65535, 1)).toBe(0);
    expect(seqAdd(65530, 10)).toBe(4);
  });
  it('orders at the half-way point 32767/32768', () => {
    expect(seqDiff(32767, 0)).toBe(32767);
    expect(seqGreater(32767, 0)).toBe(true);
    expect(seqDiff(32768, 32767)).toBe(1);
    expect(seqLess(32767, 32768)).toBe(true);
    // Exactly half the space apart: undefined in RFC 1982; we pin both as "older".
    expect(seqDiff(32768, 0)).toBe(-32768);
    expect(seqDiff(0, 32768)).toBe(-32768);
  });
  it('unwraps to the nearest integer, forwards and backwards, across many wraps', () => {
    expect(unwrap(0, 65535)).toBe(65536);
    expect(unwrap(65535, 65536)).toBe(65535);
    expect(unwrap(5, -1)).toBe(5);
    expect(unwrap(65535, 0)).toBe(-1);
    let ref = 0;
    for (let n = 0; n < 5 * 65536; n += 97) {
      expect(unwrap(wrap(n), ref)).toBe(n);
      expect(unwrap(wrap(n - 3000), n)).toBe(n - 3000);
      ref = n;
    }
  });
});
