/**
 * Unsigned LEB128 varints (7 bits a byte, low bits first, high bit = more follows), at most 5 bytes for a
 * u32: what room frames use for handles, request ids and sequence numbers (1 byte below 128).
 */

import { ByteReader, DecodeError } from './bytes.js';

export const MAX_VARINT_SIZE = 5;

/** Bytes `value` (an integer 0..2^32-1) takes as a varint. */
export function varintSize(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`varint out of range: ${value}`);
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Writes `value` at `offset` of `out`; returns the offset after it. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  while (value >= 0x80) {
    out[offset++] = (value & 0x7f) | 0x80;
    value = Math.floor(value / 128);
  }
  out[offset++] = value;
  return offset;
}

/** Reads a varint; throws DecodeError when it is cut, longer than 5 bytes, or over 2^32-1. */
export function readVarint(r: ByteReader, what: string): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_VARINT_SIZE; i++) {
    const b = r.u8(what);
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (value > 0xffffffff) throw new DecodeError(`${what}: varint over 2^32-1`);
      return value;
    }
    scale *= 128;
  }
  throw new DecodeError(`${what}: varint longer than ${MAX_VARINT_SIZE} bytes`);
}
