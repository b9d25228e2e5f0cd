/**
 * Structured fuzzing of every decoder a peer's bytes reach (packages/protocol/test/fuzz.test.ts already
 * feeds them random bytes; here the input is a valid structure with its fields mutated: lengths, counts,
 * type bytes, flags, truncation). For every decoder:
 *  - it returns, or throws the library's DecodeError — never anything else (parseBatch returns a reason);
 *  - what it returns is bounded by the input: no more records, channels, values or bytes than the input
 *    could hold, views inside the input, no reference to anything but fresh values;
 *  - unmutated, it gives back exactly the value the structure was built from, and the structure's bytes
 *    are exactly what the library's own encoder writes.
 * Budget: test/fuzz/budget.ts.
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  checkMessagePack,
  decodeControl,
  decodeEnvelope,
  decodeHeader,
  decodeMessage,
  decodeRecords,
  decodeValue,
  DecodeError,
  encodeControl,
  encodeHeader,
  encodeRecords,
  encodeRejectFor,
  inspectPacket,
  MAX_CONNECT_PAYLOAD,
  MIN_CONNECT_SIZE,
  CONTROL_CHANNEL,
  ConnectionPair,
  decodeControlRecord,
  encodePing,
  encodePong,
  PING_SIZE,
  PONG_SIZE,
  PROTOCOL_VERSION,
  parseBatch,
  type ConnectionEvent,
  type ControlPacket,
} from '@volley/protocol';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';
import {
  batchFields,
  controlArb,
  controlFields,
  controlRecordArb,
  controlRecordFields,
  dataPacketArb,
  dataPacketFields,
  decodedSize,
  envelopeArb,
  envelopeFields,
  hasPrototypeKey,
  headerArb,
  headerFields,
  idModeOf,
  modesArb,
  packArb,
  packFields,
  recordFields,
  recordsArb,
  SIZE_PER_BYTE,
  wireText,
} from './formats.js';
import { decodesOr, encodeFields, fuzzed } from './structured.js';

const decoding = <T>(f: () => T) => decodesOr(DecodeError, f);

/** A view of `input` (not a copy): decoders hand out payload views. */
const within = (view: Uint8Array, input: Uint8Array) =>
  view.buffer === input.buffer && view.byteOffset >= input.byteOffset && view.byteOffset + view.length <= input.byteOffset + input.length;

/** Object.prototype is never touched by decoding (a `__proto__` key must not pollute it). */
function expectPristinePrototype(): void {
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PRISTINE);
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
}
const PRISTINE = Object.getOwnPropertyNames(Object.prototype).sort();

describe('packet headers (header.ts)', () => {
  it('decode or throw DecodeError; unmutated they round-trip', { timeout: FUZZ_TIMEOUT }, () => {
    fc.assert(
      fc.property(fuzzed(headerArb, headerFields), (f) => {
        if (!f.mutated) expect(f.bytes).toEqual(encodeHeader(f.value));
        const r = decoding(() => decodeHeader(f.bytes));
        if (!r.ok) {
          expect(f.mutated).toBe(true);
          return;
        }
        const h = r.value;
        expect(h.sequence).toBeGreaterThanOrEqual(0);
        expect(h.sequence).toBeLessThanOrEqual(0xffff);
        if (h.ack) {
          expect(h.ack.bits).toBe(h.ack.bits >>> 0);
          expect(h.ack.delay ?? 0).toBeLessThanOrEqual(111);
        }
        if (!f.mutated) expect(h).toEqual(decodeHeader(encodeHeader(f.value)));
      }),
      fuzzParams(),
    );
  });
});

describe('message records (record.ts) and whole data packets (inspect.ts)', () => {
  const input = modesArb.chain((modes) => fuzzed(recordsArb(modes), (rs) => recordFields(rs, idModeOf(modes))).map((f) => ({ modes, f })));

  it('decode or throw DecodeError, within the input; unmutated they round-trip', { timeout: FUZZ_TIMEOUT }, () => {
    fc.assert(
      fc.property(input, ({ modes, f }) => {
        const idMode = idModeOf(modes);
        if (!f.mutated) expect(f.bytes).toEqual(encodeRecords(f.value, idMode));
        const r = decoding(() => decodeRecords(f.bytes, idMode));
        if (!r.ok) {
          expect(f.mutated).toBe(true);
          return;
        }
        const records = r.value;
        expect(records.length * 2).toBeLessThanOrEqual(f.bytes.length);
        let payload = 0;
        for (const rec of records) {
          const mode = idMode(rec.channel);
          expect(mode).toBeDefined();
          if (rec.fragment) {
            expect(rec.id).toBeDefined();
            expect(rec.fragment.count).toBeGreaterThanOrEqual(2);
            expect(rec.fragment.index).toBeLessThan(rec.fragment.count);
          } else {
            expect(rec.id !== undefined).toBe(mode === 'id');
          }
          expect(within(rec.data, f.bytes)).toBe(true);
          payload += rec.data.length;
        }
        expect(payload).toBeLessThanOrEqual(f.bytes.length);
        if (!f.mutated) expect(records).toEqual(f.value);
      }),
      fuzzParams(),
    );
  });

  it('inspectPacket never throws; an unmutated data packet reads back as sent', { timeout: FUZZ_TIMEOUT }, () => {
    const packets = modesArb.chain((modes) => fuzzed(dataPacketArb(modes), dataPacketFields(modes)).map((f) => ({ modes, f })));
    fc.assert(
      fc.property(packets, ({ modes, f }) => {
        const withIds = modes.flatMap((m, ch) => (m === 'id' ? [ch] : []));
        const p = inspectPacket(f.bytes, withIds);
        expect(['data', 'control', 'malformed']).toContain(p.kind);
        if (!f.mutated) {
          expect(p.kind).toBe('data');
          if (p.kind === 'data') expect(p.records).toEqual(f.value.records);
        }
      }),
      fuzzParams(),
    );
  });
});

describe('control packets (control.ts)', () => {
  /** The value decodeControl gives back for `p` (texts as they travel; of another version's CONNECT, what all versions share). */
  const expected = (p: ControlPacket): ControlPacket => {
    if (p.type === 'reject' || p.type === 'disconnect') return { ...p, text: wireText(p.text) };
    if (p.type === 'connect' && p.version !== PROTOCOL_VERSION) return { ...p, maxAckDelay: 0, channels: [], payload: new Uint8Array(0) };
    return p;
  };

  it('decode or throw DecodeError, bounded by the input; unmutated they round-trip', { timeout: FUZZ_TIMEOUT }, () => {
    fc.assert(
      fc.property(fuzzed(controlArb, controlFields), (f) => {
        if (!f.mutated) expect(f.bytes).toEqual(encodeControl(f.value));
        const r = decoding(() => decodeControl(f.bytes));
        if (!r.ok) {
          expect(f.mutated).toBe(true);
          return;
        }
        const p = r.value;
        switch (p.type) {
          case 'connect':
            expect(f.bytes.length).toBeGreaterThanOrEqual(MIN_CONNECT_SIZE);
            expect(11 + 11 * p.channels.length + p.payload.length).toBeLessThanOrEqual(f.bytes.length);
            expect(p.payload.length).toBeLessThanOrEqual(MAX_CONNECT_PAYLOAD);
            expect(within(p.payload, f.bytes)).toBe(false); // a copy: the session keeps it
            break;
          case 'accept':
            expect(Number.isFinite(p.receivedAt) && Number.isFinite(p.sentAt)).toBe(true);
            expect(p.token.length).toBe(16);
            break;
          case 'resume':
            expect(p.token.length).toBe(16);
            break;
          case 'reject':
          case 'disconnect':
            expect(new TextEncoder().encode(p.text).length).toBeLessThanOrEqual(3 * f.bytes.length);
            break;
        }
        if (!f.mutated) expect(p).toEqual(expected(f.value));
      }),
      fuzzParams(),
    );
  });

  it('a REJECT answering a CONNECT of any size is never larger than it', { timeout: FUZZ_TIMEOUT }, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_CONNECT_SIZE, max: 2000 }),
        fc.nat({ max: 0xffffffff }),
        fc.nat({ max: 255 }),
        fc.string({ maxLength: 300, unit: 'binary' }),
        (size, nonce, reason, text) => {
          expect(encodeRejectFor(size, nonce, reason, text).length).toBeLessThanOrEqual(size);
        },
      ),
      fuzzParams(),
    );
  });
});

describe('ping and pong records (control-record.ts)', () => {
  it('decode or throw DecodeError, with finite times; unmutated they round-trip', { timeout: FUZZ_TIMEOUT }, () => {
    fc.assert(
      fc.property(fuzzed(controlRecordArb, controlRecordFields), (f) => {
        if (!f.mutated) expect(f.bytes).toEqual(f.value.type === 'ping' ? encodePing(f.value.ping) : encodePong(f.value.pong));
        const r = decoding(() => decodeControlRecord(f.bytes));
        if (!r.ok) {
          expect(f.mutated).toBe(true);
          return;
        }
        const times = r.value.type === 'ping' ? [r.value.ping.sentAt] : [r.value.pong.receivedAt, r.value.pong.sentAt];
        expect(times.every(Number.isFinite)).toBe(true);
        expect(f.bytes.length).toBe(r.value.type === 'ping' ? PING_SIZE : PONG_SIZE);
        if (!f.mutated) expect(r.value).toEqual(f.value);
      }),
      fuzzParams(),
    );
  });

  // As a peer sends them: inside a data packet on channel 15, into a live connection. The packet takes the
  // number after the client's last one, so the connection reads it (and the client's own packet with that
  // number becomes a duplicate: a ping or an ack, given the wait below). The connection must count what it
  // cannot read, never fail itself (internalErrors), and keep carrying the real traffic.
  it('a live connection takes any ping or pong body without an internal error and keeps delivering', { timeout: FUZZ_TIMEOUT }, () => {
    fc.assert(
      fc.property(fuzzed(controlRecordArb, controlRecordFields), fc.boolean(), (f, withAck) => {
        let lastSeq = -1;
        const delivered: number[] = [];
        const pair = new ConnectionPair({
          link: {
            seed: 1,
            rules: [
              (d) => {
                if (d.direction === 'b-to-a' && d.bytes[0]! >>> 6 !== 1) lastSeq = decodeHeader(d.bytes).sequence;
                return false;
              },
            ],
          },
          onServerEvent: (e: ConnectionEvent) => {
            if (e.type === 'message') delivered.push(e.data[0]!);
          },
        });
        pair.connect();
        pair.client.send(0, Uint8Array.of(7));
        pair.sim.runWhile(() => delivered.length === 0, pair.sim.now + 5000);
        pair.sim.runUntil(pair.sim.now + 100); // the ack of it is out
        const header = encodeHeader({ sequence: (lastSeq + 1) & 0xffff, ...(withAck ? { ack: { ack: 0, bits: 0 } } : {}) });
        const body = encodeRecords([{ channel: CONTROL_CHANNEL, data: f.bytes }], () => 'plain');
        const datagram = new Uint8Array(header.length + body.length);
        datagram.set(header);
        datagram.set(body, header.length);
        const malformed = pair.server.stats().malformedPackets;
        const undecodable = !decoding(() => decodeControlRecord(f.bytes)).ok;
        pair.server.handle(datagram, pair.sim.now);
        expect(pair.server.stats().internalErrors).toBe(0);
        expect(pair.server.stats().malformedPackets).toBe(malformed + (undecodable ? 1 : 0));
        pair.sim.runUntil(pair.sim.now + 2500);
        pair.client.send(0, Uint8Array.of(8));
        pair.sim.runWhile(() => delivered.length < 2, pair.sim.now + 5000);
        expect(delivered).toEqual([7, 8]);
        expect(pair.server.state).toBe('connected');
        expect(pair.server.stats().internalErrors + pair.client.stats().internalErrors).toBe(0);
      }),
      fuzzParams(0.5),
    );
  });
});

describe('MessagePack from a peer (msgpack-bounds.ts, decodeValue)', () => {
  it(
    'checkMessagePack and decodeValue decode or throw DecodeError; what decodes is linear in the input; no prototype pollution',
    { timeout: FUZZ_TIMEOUT },
    () => {
      fc.assert(
        fc.property(fuzzed(packArb, packFields, 5), fc.integer({ min: 1, max: 70 }), (f, depth) => {
          const checked = decoding(() => checkMessagePack(f.bytes, depth));
          const r = decoding(() => decodeValue(f.bytes, depth));
          expectPristinePrototype();
          if (!checked.ok && f.bytes.length > 0) expect(r.ok).toBe(false); // decodeValue runs the check first
          if (r.ok) expect(decodedSize(r.value)).toBeLessThanOrEqual(SIZE_PER_BYTE * Math.max(1, f.bytes.length));
          if (!f.mutated && depth >= 6 && !hasPrototypeKey(f.value)) expect(r.ok).toBe(true);
        }),
        fuzzParams(),
      );
    },
  );
});

describe('message envelopes (envelope.ts, decodeMessage)', () => {
  it(
    'decode or throw DecodeError; a message is a non-empty type and a value linear in the input; raw bodies are copies',
    { timeout: FUZZ_TIMEOUT },
    () => {
      fc.assert(
        fc.property(fuzzed(envelopeArb, envelopeFields, 5), (f) => {
          const env = decoding(() => decodeEnvelope(f.bytes));
          const r = decoding(() => decodeMessage(f.bytes));
          expectPristinePrototype();
          if (!env.ok) expect(r.ok).toBe(false);
          if (!r.ok) {
            // Refusing a prototype key (`__proto__`) on purpose is the decoder's right.
            expect(f.mutated || ('pack' in f.value.body && hasPrototypeKey(f.value.body.pack))).toBe(true);
            return;
          }
          expect(r.value.type.length).toBeGreaterThan(0);
          expect(decodedSize(r.value.data)).toBeLessThanOrEqual(SIZE_PER_BYTE * f.bytes.length);
          if (r.value.data instanceof Uint8Array && env.ok && env.value.raw) {
            expect(r.value.data.buffer).not.toBe(f.bytes.buffer);
            expect(r.value.data).toEqual(env.value.body);
          }
          if (!f.mutated) {
            expect(r.value.type).toBe(new TextDecoder().decode(new TextEncoder().encode(f.value.type)));
            if ('raw' in f.value.body) expect(r.value.data).toEqual(f.value.body.raw);
          }
        }),
        fuzzParams(),
      );
    },
  );
});

describe('long-polling batches (datagram-batch.ts)', () => {
  const datagrams = fc.array(fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ minLength: 1200, maxLength: 1300 })), {
    maxLength: 6,
  });

  it(
    'parseBatch never throws: a list that adds up to the body exactly, or a reason; unmutated it round-trips',
    { timeout: FUZZ_TIMEOUT },
    () => {
      fc.assert(
        fc.property(fuzzed(datagrams, batchFields), fc.oneof(fc.constant(0xffff), fc.integer({ min: 0, max: 1300 })), (f, max) => {
          const r = parseBatch(f.bytes, max);
          if (typeof r === 'string') {
            expect(r).toMatch(/malformed batch|exceeds/);
            return;
          }
          expect(r.reduce((n, d) => n + 2 + d.length, 0)).toBe(f.bytes.length);
          for (const d of r) {
            expect(d.length).toBeLessThanOrEqual(max);
            expect(within(d, f.bytes)).toBe(true);
          }
          if (!f.mutated) expect(r).toEqual(f.value);
        }),
        fuzzParams(),
      );
      // Unmutated batches of datagrams all within the limit always parse.
      fc.assert(
        fc.property(datagrams, (ds) => {
          expect(parseBatch(encodeFields(batchFields(ds)))).toEqual(ds);
        }),
        fuzzParams(0.25),
      );
    },
  );
});
