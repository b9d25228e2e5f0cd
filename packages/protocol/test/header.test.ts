import { describe, expect, it } from 'vitest';
import {
  ACK_DELAY_MAX_MS,
  decodeAckDelay,
  decodeHeader,
  encodeAckDelay,
  encodeHeader,
  headerSize,
  MAX_HEADER_SIZE,
  type PacketHeader,
} from '../src/header.js';
import { DecodeError } from '../src/bytes.js';
import vectors from './vectors/header.json' with { type: 'json' };

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

describe('packet header test vectors (docs/protocol.md §2)', () => {
  for (const v of vectors.valid) {
    it(`encodes: ${v.name}`, () => {
      const h = v.header as PacketHeader;
      expect(hex(encodeHeader(h))).toBe(v.hex);
      expect(headerSize(h)).toBe(v.size);
    });
    it(`decodes: ${v.name}`, () => {
      const d = decodeHeader(unhex(v.hex));
      expect(d.sequence).toBe(v.header.sequence);
      const a = (v.header as PacketHeader).ack;
      if (!a) {
        expect(d.ack).toBeUndefined();
        return;
      }
      expect(d.ack!.ack).toBe(a.ack);
      expect(d.ack!.bits).toBe(a.bits);
      if (a.delay) expect(d.ack!.delay).toBeCloseTo((v as { decodedDelay: number }).decodedDelay, 6);
      else expect(d.ack!.delay).toBeUndefined();
    });
  }

  for (const m of vectors.malformed) {
    it(`rejects: ${m.name}`, () => {
      expect(() => decodeHeader(unhex(m.hex))).toThrow(DecodeError);
    });
  }

  it('ack delay: every byte decodes to a delay that encodes back to it, in rising order, up to 111 ms', () => {
    let last = 0;
    for (let code = 1; code <= 255; code++) {
      const ms = decodeAckDelay(code);
      expect(ms).toBeGreaterThan(last);
      expect(encodeAckDelay(ms)).toBe(code);
      last = ms;
    }
    expect(last).toBe(ACK_DELAY_MAX_MS);
    expect(ACK_DELAY_MAX_MS).toBe(111);
    // Rounding is to the nearest step: at most 0.05 ms off below 16 ms, 0.5 ms off above.
    for (let ms = 0.05; ms < 111; ms += 0.37)
      expect(Math.abs(decodeAckDelay(encodeAckDelay(ms)) - ms)).toBeLessThanOrEqual(ms < 16 ? 0.05 + 1e-9 : 0.5 + 1e-9);
  });

  it('stays within 3..10 bytes, 4..10 with acks', () => {
    const sizes = vectors.valid.map((v) => v.size);
    expect(Math.max(...sizes)).toBe(MAX_HEADER_SIZE);
    for (const v of vectors.valid) expect(v.size).toBeGreaterThanOrEqual((v.header as PacketHeader).ack ? 4 : 3);
  });

  it('round-trips every sequence and ack pair over a sweep that crosses the wrap', () => {
    for (let seq = 65000; seq < 65536 + 600; seq += 7) {
      for (const back of [0, 1, 255, 256, 40000]) {
        const h: PacketHeader = { sequence: seq & 0xffff, ack: { ack: (seq - back) & 0xffff, bits: (seq * 2654435761) >>> 0 } };
        const d = decodeHeader(encodeHeader(h));
        expect(d).toEqual(h);
      }
    }
  });
});
