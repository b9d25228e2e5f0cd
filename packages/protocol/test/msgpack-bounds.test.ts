/**
 * MessagePack from a peer is bounded before it is decoded (msgpack-bounds.ts): what an honest encoder makes
 * passes and decodes as before; declared lengths past the input, deep nesting and reserved bytes are refused
 * with a DecodeError, in one pass, before any decoder allocates.
 */

import { decode, encode } from '@msgpack/msgpack';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkMessagePack, decodeMessage, decodeValue, DecodeError, encodeEnvelope, encodeMessage } from '../src/index.js';

/** Whether `v` has an own `__proto__` key anywhere (fast-check's JSON values can). */
function hasProtoKey(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return true;
  return Object.values(v).some(hasProtoKey);
}

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const repeat = (h: string, n: number) => hex(h.repeat(n));

describe('MessagePack bounds', () => {
  it('passes whatever an honest encoder makes, and the message layer decodes it as before', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.uint8Array({ maxLength: 300 }), (value, bin) => {
        const v = { value, bin, n: [0, -1, 2 ** 40, 1.5, null, true] };
        expect(() => checkMessagePack(encode(v))).not.toThrow();
        // A `__proto__` key is refused by the decoder (no prototype pollution from a peer), clearly.
        if (hasProtoKey(v)) {
          expect(() => decodeMessage(encodeMessage('t', v))).toThrow(/__proto__ is not allowed/);
          return; // (not `return expect(…)`: fast-check takes any returned value but true or undefined as a failure)
        }
        // Else the same result as the plain decoder (which, e.g., gives 0 for -0: MessagePack has no negative integer zero).
        expect(decodeMessage(encodeMessage('t', v))).toEqual({ type: 't', data: decode(encode(v)) });
      }),
      { numRuns: 200 },
    );
  });

  const hostile: [string, Uint8Array][] = [
    ['10 000 array16(65535) headers (30 KB)', repeat('dcffff', 10_000)],
    ['array32 of 4 294 967 295 elements', hex('ddffffffff')],
    ['map32 of 4 294 967 295 entries', hex('dfffffffff')],
    ['map16 declaring more entries than half the bytes left', hex('de0003 01 01 01 01')],
    ['str32 of 4 GB', hex('dbffffffff 616263')],
    ['bin32 of 4 GB', hex('c6ffffffff 00')],
    ['ext32 of 4 GB', hex('c9ffffffff 01')],
    ['200 000-deep nesting', repeat('91', 200_000)],
    ['65-deep nesting (one past the default 64)', hex('91'.repeat(65) + 'c0')],
    ['the never-used byte 0xc1', hex('92 c1 c0')],
    ['a truncated float64', hex('cb 0000')],
    ['an array missing its last element', hex('93 01 02')],
  ];
  it.each(hostile)('refuses %s', (_name, bytes) => {
    expect(() => checkMessagePack(bytes)).toThrow(DecodeError);
    expect(() => decodeMessage(encodeEnvelope('t', bytes, false))).toThrow(DecodeError);
    expect(() => decodeValue(bytes)).toThrow(DecodeError);
  });

  it('accepts nesting up to the cap, and the cap is configurable', () => {
    const deep = hex('91'.repeat(64) + 'c0');
    expect(() => checkMessagePack(deep)).not.toThrow();
    expect(() => checkMessagePack(deep, 10)).toThrow(/deeper than 10/);
    expect(() => decodeValue(deep, 100)).not.toThrow();
  });

  it('never throws anything but DecodeError on random bytes, and what it passes decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          checkMessagePack(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
          return;
        }
        try {
          decodeValue(bytes);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError); // e.g. trailing bytes: refused by the decoder, still a DecodeError
        }
      }),
      { numRuns: 2000 },
    );
  });
});
