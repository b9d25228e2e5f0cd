import { describe, expect, it } from 'vitest';
import { CopySlab, SLAB_SIZE } from '../src/copy-slab.js';

describe('CopySlab', () => {
  it('gives copies that neither the source nor later copies change', () => {
    const slab = new CopySlab();
    const src = new Uint8Array(100);
    const copies: Uint8Array[] = [];
    for (let i = 0; i < 3 * (SLAB_SIZE / 100); i++) {
      src.fill(i & 0xff);
      copies.push(slab.copy(src));
    }
    src.fill(0xee);
    copies.forEach((c, i) => {
      expect(c.length).toBe(100);
      expect(c.every((b) => b === (i & 0xff))).toBe(true);
    });
    // Small copies share slabs; a slab never holds more than its size.
    expect(copies[0]!.buffer).toBe(copies[1]!.buffer);
    expect(copies[0]!.buffer.byteLength).toBe(SLAB_SIZE);
    expect(new Set(copies.map((c) => c.buffer)).size).toBe(Math.ceil(copies.length / Math.floor(SLAB_SIZE / 100)));
  });

  it('gives a message over a quarter of a slab a buffer of its own, of its size', () => {
    const slab = new CopySlab();
    const big = new Uint8Array(SLAB_SIZE / 4 + 1).fill(7);
    const c = slab.copy(big);
    expect(c.buffer.byteLength).toBe(big.length);
    expect(c).toEqual(big);
    expect(slab.copy(new Uint8Array(0)).length).toBe(0);
  });
});
