/**
 * Room frames (docs/protocol.md §9): the test vectors decode and re-encode byte for byte, every malformed
 * vector is refused with a DecodeError, and no input — random bytes, or a valid frame cut or bit-flipped —
 * gets any other error out of the decoder.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeError, decodeRoomFrame, encodeRoomFrame, isRoomFrame, readVarint, varintSize, writeVarint } from '../src/index.js';
import { ByteReader } from '../src/bytes.js';
import vectors from './vectors/room-frame.json' with { type: 'json' };

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
type From = 'client' | 'server';

describe('room frame test vectors (docs/protocol.md §9)', () => {
  for (const v of vectors.valid) {
    it(`decodes and re-encodes: ${v.name}`, () => {
      const b = bytes(v.hex);
      expect(isRoomFrame(b)).toBe(true);
      const frame = decodeRoomFrame(b, v.from as From);
      expect(hex(encodeRoomFrame(frame))).toBe(v.hex);
    });
  }
  for (const m of vectors.malformed) {
    it(`refuses: ${m.name}`, () => {
      expect(() => decodeRoomFrame(bytes(m.hex), m.from as From)).toThrow(DecodeError);
    });
  }
});

describe('room frame decoding is total', () => {
  const anyError = (b: Uint8Array, from: From): void => {
    try {
      decodeRoomFrame(b, from);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  };
  it('random bytes: a frame or a DecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom<From>('client', 'server'), (b, from) => {
        anyError(new Uint8Array([0x02, ...b]), from);
        anyError(b, from);
      }),
      { numRuns: 2000 },
    );
  });
  it('every vector cut at every length, or with any bit flipped: a frame or a DecodeError', () => {
    for (const v of vectors.valid) {
      const b = bytes(v.hex);
      for (let n = 0; n < b.length; n++) anyError(b.subarray(0, n), v.from as From);
      for (let i = 0; i < b.length * 8; i++) {
        const c = b.slice();
        c[i >> 3]! ^= 1 << (i & 7);
        anyError(c, v.from as From);
      }
    }
  });
});

describe('varints', () => {
  it('round-trip every size class and refuse what is not a u32', () => {
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1]) {
      const out = new Uint8Array(varintSize(v));
      expect(writeVarint(out, 0, v)).toBe(out.length);
      expect(readVarint(new ByteReader(out), 'v')).toBe(v);
    }
    expect(() => varintSize(2 ** 32)).toThrow(RangeError);
    expect(() => varintSize(-1)).toThrow(RangeError);
    expect(() => varintSize(1.5)).toThrow(RangeError);
  });
});
