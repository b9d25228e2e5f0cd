import { describe, expect, it } from 'vitest';
import { DecodeError } from '../src/bytes.js';
import {
  ACCEPT_SIZE,
  decodeControl,
  encodeControl,
  encodeRejectFor,
  MIN_CONNECT_SIZE,
  PROTOCOL_VERSION,
  type ControlPacket,
} from '../src/control.js';

const spec = { kind: 0, window: 1024, maxMessageSize: 262144, maxQueuedBytes: 1048576 };

/** A CONNECT of this version (nonce 9, attempt 1, no payload) with the given ack delay and channels. */
const connectOf = (p: { maxAckDelay: number; channels: (typeof spec)[] }): Uint8Array =>
  encodeControl({ type: 'connect', version: PROTOCOL_VERSION, nonce: 9, attempt: 1, payload: new Uint8Array(0), ...p });

describe('control packets (docs/protocol.md §5)', () => {
  const packets: ControlPacket[] = [
    {
      type: 'connect',
      version: PROTOCOL_VERSION,
      nonce: 0xdeadbeef,
      attempt: 3,
      maxAckDelay: 60,
      channels: [spec, { ...spec, kind: 3 }],
      payload: new Uint8Array([1, 2, 3]),
    },
    {
      type: 'accept',
      nonce: 0xdeadbeef,
      connectionId: 42,
      attempt: 3,
      maxAckDelay: 20,
      token: new Uint8Array(16).fill(7),
      receivedAt: 1234.5,
      sentAt: 1250.25,
    },
    { type: 'resume', connectionId: 42, token: new Uint8Array(16).fill(9) },
    { type: 'resumed', connectionId: 42 },
    { type: 'reject', nonce: 1, reason: 2, text: 'bad token ✗' },
    { type: 'disconnect', connectionId: 42, reason: 0, text: '' },
  ];
  for (const p of packets) {
    it(`round-trips ${p.type}`, () => expect(decodeControl(encodeControl(p))).toEqual(p));
  }

  it('lays out ACCEPT, RESUME and RESUMED byte for byte', () => {
    const token = new Uint8Array(16).map((_, i) => i);
    const tokenHex = Buffer.from(token).toString('hex');
    const accept = encodeControl({
      type: 'accept',
      nonce: 0x01020304,
      connectionId: 0x0a0b0c0d,
      attempt: 7,
      maxAckDelay: 100,
      token,
      receivedAt: 1,
      sentAt: 2.5,
    });
    // f64 big-endian: 1 = 3ff0000000000000, 2.5 = 4004000000000000
    expect(Buffer.from(accept).toString('hex')).toBe(
      '42' + '01020304' + '0a0b0c0d' + '07' + '64' + tokenHex + '3ff0000000000000' + '4004000000000000',
    );
    expect(accept.length).toBe(ACCEPT_SIZE);
    expect(Buffer.from(encodeControl({ type: 'resume', connectionId: 0x0a0b0c0d, token })).toString('hex')).toBe(
      '45' + '0a0b0c0d' + tokenHex + '00'.repeat(MIN_CONNECT_SIZE - 21),
    );
    expect(Buffer.from(encodeControl({ type: 'resumed', connectionId: 5 })).toString('hex')).toBe('4600000005');
  });

  it('pads CONNECT to 48 bytes with zeros, and refuses non-zero padding or a shorter one', () => {
    const c = connectOf({ maxAckDelay: 20, channels: [spec] });
    expect(c.length).toBe(MIN_CONNECT_SIZE);
    expect(MIN_CONNECT_SIZE).toBe(48);
    const bad = c.slice();
    bad[47] = 1;
    expect(() => decodeControl(bad)).toThrow(DecodeError);
    // Unpadded, it could draw a reply larger than itself (an ACCEPT is 43 bytes): malformed.
    expect(() => decodeControl(c.subarray(0, 13))).toThrow(/CONNECT of 13 bytes, under 48/);
  });

  it('never answers a CONNECT with more bytes than it had', () => {
    const connect = connectOf({ maxAckDelay: 0, channels: [] });
    expect(
      encodeControl({
        type: 'accept',
        nonce: 9,
        connectionId: 1,
        attempt: 1,
        maxAckDelay: 100,
        token: new Uint8Array(16),
        receivedAt: 0,
        sentAt: 0,
      }).length,
    ).toBeLessThanOrEqual(connect.length);
    const resume = encodeControl({ type: 'resume', connectionId: 1, token: new Uint8Array(16) });
    expect(encodeControl({ type: 'resumed', connectionId: 1 }).length).toBeLessThanOrEqual(resume.length);
    const reject = encodeRejectFor(connect.length, 9, 2, 'x'.repeat(500));
    expect(reject.length).toBeLessThanOrEqual(connect.length);
    expect(decodeControl(reject)).toMatchObject({ type: 'reject', reason: 2 });
  });

  it('rejects malformed control packets', () => {
    const cases = ['41', '4100', '42010203', '4201020304050607', '420102030405060708ff00', '45', '430000000102', '44000000000203'];
    for (const h of cases) expect(() => decodeControl(new Uint8Array(Buffer.from(h, 'hex'))), h).toThrow(DecodeError);
    const accept = encodeControl({
      type: 'accept',
      nonce: 9,
      connectionId: 1,
      attempt: 1,
      maxAckDelay: 20,
      token: new Uint8Array(16),
      receivedAt: 0,
      sentAt: 0,
    });
    new DataView(accept.buffer).setFloat64(ACCEPT_SIZE - 8, NaN);
    expect(() => decodeControl(accept)).toThrow(/non-finite time/);
    const late = accept.slice();
    late[10] = 101; // the max ack delay byte
    expect(() => decodeControl(late)).toThrow(/max ack delay 101/);
  });

  it('decodes a CONNECT of another version only as far as every version agrees, so it can be refused by version', () => {
    // A version-3 CONNECT (no max ack delay byte): version, nonce and attempt are read, the rest is not.
    const v3 = new Uint8Array(MIN_CONNECT_SIZE);
    v3.set([0x41, 3, 0, 0, 0, 9, 1, 1, 0, 0x04, 0x00]);
    expect(decodeControl(v3)).toEqual({
      type: 'connect',
      version: 3,
      nonce: 9,
      attempt: 1,
      maxAckDelay: 0,
      channels: [],
      payload: new Uint8Array(0),
    });
  });
});
