/**
 * PING and PONG records (docs/protocol.md §7): the test vectors, and the rule that a PONG is never larger
 * than the PING it answers — checked on the wire, datagram by datagram, across many pings over a lossy link
 * (so the headers around them vary), and for a peer that sends a PING too small to pay for its PONG.
 */

import { describe, expect, it } from 'vitest';
import {
  Connection,
  ConnectionPair,
  decodeHeader,
  decodeRecords,
  encodeHeader,
  encodeRecords,
  headerSize,
  MAX_HEADER_SIZE,
  MIN_HEADER_SIZE,
  packetKindOf,
  PacketKind,
  type ChannelIdMode,
  type ConnectionOptions,
  type MessageRecord,
} from '../src/index.js';
import { DecodeError } from '../src/bytes.js';
import { decodeControlRecord, encodePing, encodePong, PING_SIZE, PONG_SIZE, type ControlRecord } from '../src/control-record.js';
import vectors from './vectors/control-record.json' with { type: 'json' };

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const idMode = (ch: number): ChannelIdMode => (ch === 15 ? 'plain' : 'id');

describe('PING / PONG test vectors (docs/protocol.md §7)', () => {
  for (const v of vectors.valid) {
    const rec = v.record as ControlRecord;
    it(`encodes and decodes: ${v.name}`, () => {
      expect(hex(rec.type === 'ping' ? encodePing(rec.ping) : encodePong(rec.pong))).toBe(v.hex);
      expect(decodeControlRecord(unhex(v.hex))).toEqual(rec);
    });
  }
  for (const m of vectors.malformed) {
    it(`rejects: ${m.name}`, () => expect(() => decodeControlRecord(unhex(m.hex))).toThrow(DecodeError));
  }

  it('pads a PING to its PONG plus the widest header difference, so a PING-only datagram is never smaller than its PONG-only reply', () => {
    expect([PING_SIZE, PONG_SIZE]).toEqual([30, 23]);
    // The smallest datagram that can carry a PING (no-ack header) against the largest carrying a PONG.
    expect(MIN_HEADER_SIZE + 2 + PING_SIZE).toBeGreaterThanOrEqual(MAX_HEADER_SIZE + 2 + PONG_SIZE);
  });
});

/** Sizes of the datagrams carrying each PING and each PONG, by seq, as put on the wire by one side each way. */
function measure(pinger: 'client' | 'server', seed: number) {
  const ping = new Map<number, number>();
  const pong = new Map<number, number>();
  let other = 0;
  const quiet: ConnectionOptions = { pingInterval: 0 };
  const busy: ConnectionOptions = { pingInterval: 20 };
  const pair = new ConnectionPair({
    server: pinger === 'server' ? busy : quiet,
    client: pinger === 'client' ? busy : quiet,
    link: {
      seed,
      conditions: { loss: 0.15, latency: 20, jitter: 8, duplicate: 0.05, reorder: 0.05 },
      rules: [
        (d) => {
          const kind = packetKindOf(d.bytes);
          if (kind !== PacketKind.Data && kind !== PacketKind.DataNoAck) return false;
          const records = decodeRecords(d.bytes.subarray(headerSize(decodeHeader(d.bytes))), idMode);
          for (const r of records) {
            if (r.channel !== 15) other++;
            else {
              const c = decodeControlRecord(r.data);
              if (c.type === 'ping') ping.set(c.ping.seq, d.bytes.length);
              else pong.set(c.pong.seq, d.bytes.length);
            }
          }
          return false; // only watching: the link's own impairments decide
        },
      ],
    },
  });
  pair.connect();
  pair.sim.runUntil(pair.sim.now + 30_000);
  return { ping, pong, other };
}

describe('a PONG is never larger than its PING, on the wire', () => {
  for (const pinger of ['client', 'server'] as const) {
    it(`${pinger} pings every 20 ms for 30 s over a lossy, reordering link: each PONG datagram ≤ its PING datagram`, () => {
      const { ping, pong, other } = measure(pinger, 11);
      expect(other).toBe(0);
      let compared = 0;
      let pingBytes = 0;
      let pongBytes = 0;
      for (const [seq, size] of pong) {
        const asked = ping.get(seq);
        expect(asked, `pong ${seq} answers a ping that was sent`).toBeDefined();
        expect(size, `pong ${seq}: ${size} bytes against its ping's ${asked}`).toBeLessThanOrEqual(asked!);
        compared++;
        pingBytes += asked!;
        pongBytes += size;
      }
      expect(compared).toBeGreaterThan(1000); // of 1500 pings, some lost each way
      console.log(
        `${pinger} pings: ${compared} PING/PONG pairs, PING datagrams avg ${(pingBytes / compared).toFixed(1)} B, PONG datagrams avg ${(pongBytes / compared).toFixed(1)} B`,
      );
    });
  }

  it('never answers a PING smaller than its PONG (a version-2 PING): the packet is malformed, nothing is sent back', () => {
    const { s } = connectedByHand();
    const old = unhex(vectors.malformed[0]!.hex);
    s.handle(packet(0, [{ channel: 15, data: old }]), 1);
    expect(s.stats().malformedPackets).toBe(1);
    expect(s.poll(2)).toEqual([]); // no PONG, and no ack for a packet that was never taken
    s.handle(packet(1, [{ channel: 15, data: encodePing({ seq: 0, sentAt: 1 }) }]), 3);
    const [reply, ...more] = s.poll(4);
    expect(more).toEqual([]);
    const records = decodeRecords(reply!.subarray(headerSize(decodeHeader(reply!))), idMode);
    expect(records.map((r) => decodeControlRecord(r.data).type)).toEqual(['pong']);
    expect(reply!.length).toBeLessThanOrEqual(MIN_HEADER_SIZE + 2 + PING_SIZE);
  });
});

/** A server and a client connected by hand (no link), pings off, events drained. */
function connectedByHand() {
  const s = Connection.server({ pingInterval: 0 });
  const c = Connection.client({ nonce: 7, pingInterval: 0 });
  c.connect(0);
  for (const d of c.poll(0)) s.handle(d, 0);
  s.pollEvent();
  s.accept(0, 1, new Uint8Array(16));
  for (const d of s.poll(0)) c.handle(d, 0);
  while (s.pollEvent());
  while (c.pollEvent());
  return { s, c };
}

/** A data packet without acks (the smallest header) carrying `records`. */
function packet(seq: number, records: MessageRecord[]): Uint8Array {
  const h = encodeHeader({ sequence: seq });
  const r = encodeRecords(records, idMode);
  const out = new Uint8Array(h.length + r.length);
  out.set(h);
  out.set(r, h.length);
  return out;
}
