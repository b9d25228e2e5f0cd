import { describe, expect, it } from 'vitest';
import { DecodeError } from '../src/bytes.js';
import { decodeRecords, encodeRecords, recordSize, type ChannelIdMode, type MessageRecord } from '../src/record.js';

// Channel 0: ids (reliable), channel 1: plain (unreliable), 15: control, others unknown.
const mode = (ch: number): ChannelIdMode => (ch === 0 ? 'id' : ch === 1 || ch === 15 ? 'plain' : undefined);
const bytes = (...b: number[]) => new Uint8Array(b);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('message records (docs/protocol.md §3)', () => {
  it('costs 2 bytes for a small unreliable message and 4 for a reliable one', () => {
    expect(recordSize({ channel: 1, data: new Uint8Array(32) }, false) - 32).toBe(2);
    expect(recordSize({ channel: 0, id: 7, data: new Uint8Array(32) }, false) - 32).toBe(4);
    expect(recordSize({ channel: 0, id: 8, data: new Uint8Array(32) }, true) - 32).toBe(2);
  });

  it('matches the byte layout in the spec', () => {
    // unreliable "hi" on channel 1: flags 0x01, len 2
    expect(hex(encodeRecords([{ channel: 1, data: bytes(0x68, 0x69) }], mode))).toBe('01026869');
    // reliable id 0x1234 then id 0x1235 (implied), channel 0
    expect(
      hex(
        encodeRecords(
          [
            { channel: 0, id: 0x1234, data: bytes(1) },
            { channel: 0, id: 0x1235, data: bytes(2) },
          ],
          mode,
        ),
      ),
    ).toBe('1012340101' + '000102');
    // fragment 1 of 3 of message 9 with a 300-byte payload: flags I|F|L
    const frag = encodeRecords([{ channel: 0, id: 9, fragment: { index: 1, count: 3 }, data: new Uint8Array(300) }], mode);
    expect(hex(frag.subarray(0, 9))).toBe('70' + '0009' + '0001' + '0003' + '012c');
  });

  it('round-trips mixed records, implying consecutive ids, including across 65535 → 0', () => {
    const recs: MessageRecord[] = [
      { channel: 0, id: 65534, data: bytes(1) },
      { channel: 0, id: 65535, data: bytes(2) },
      { channel: 1, data: bytes(3) },
      { channel: 0, id: 0, data: new Uint8Array(400).fill(4) },
      { channel: 0, id: 5, fragment: { index: 0, count: 2 }, data: bytes(5) },
      { channel: 0, id: 6, data: bytes(6) },
      { channel: 15, data: bytes(7, 7) },
    ];
    const enc = encodeRecords(recs, mode);
    expect(decodeRecords(enc, mode)).toEqual(recs);
  });

  it('rejects malformed records', () => {
    const bad: [string, Uint8Array][] = [
      ['reserved bit', bytes(0x81, 0)],
      ['unknown channel', bytes(0x05, 0)],
      ['implied id without a previous record', bytes(0x00, 1, 9)],
      ['length past the end', bytes(0x01, 5, 1, 2)],
      ['truncated id', bytes(0x10, 0x12)],
      ['fragment without id', bytes(0x21, 0, 0, 0, 2, 0)],
      ['fragment count 1', bytes(0x30, 0, 1, 0, 0, 0, 1, 0)],
      ['fragment index ≥ count', bytes(0x30, 0, 1, 0, 3, 0, 3, 0)],
      ['id on a plain channel', bytes(0x11, 0, 1, 0)],
      ['truncated u16 length', bytes(0x41, 1)],
    ];
    for (const [name, b] of bad) expect(() => decodeRecords(b, mode), name).toThrow(DecodeError);
  });
});
