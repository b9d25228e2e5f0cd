/**
 * Fuzzing: every decoder fed random and mutated input must either decode or throw DecodeError (never
 * anything else), and a live connection pair flooded with hostile datagrams must count them, stay within
 * its memory bounds, and keep carrying legitimate traffic.
 *
 * The live storm is random bytes plus corrupted copies (bit flips, truncation, garbage, extremes) of
 * datagrams the link lost on their way to that side: their packet numbers are real gaps and their acks were
 * genuine, so the corruption exercises every record check without forging. A packet with a forged number
 * or ack that parses cleanly can always mislead an unauthenticated protocol (it claims a number the real
 * packet needs); catching that is the transport's job (DTLS on WebRTC, TCP/TLS on WebSocket, checksums and
 * the connection cookie on raw UDP).
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConnectionPair,
  DecodeError,
  decodeControl,
  decodeHeader,
  decodeRecords,
  headerSize,
  inspectPacket,
  Random,
  type ConnectionEvent,
} from '../src/index.js';
import { decodeControlRecord } from '../src/control-record.js';

const decodesOrDecodeError = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
  }
};

/** Corrupts a datagram: anything after its first `keep` bytes, or a truncation anywhere. */
function mutate(rng: Random, src: Uint8Array, keep = 0): Uint8Array {
  const b = src.slice();
  const at = () => keep + rng.int(b.length - keep);
  if (b.length <= keep) return b.subarray(0, rng.int(b.length + 1));
  switch (rng.int(5)) {
    case 0: // flip bits
      for (let i = 0, n = 1 + rng.int(4); i < n; i++) b[at()]! ^= 1 << rng.int(8);
      return b;
    case 1: // truncate
      return b.subarray(0, rng.int(b.length + 1));
    case 2: // random byte values
      for (let i = 0, n = 1 + rng.int(3); i < n; i++) b[at()] = rng.int(256);
      return b;
    case 3: {
      // extend with garbage
      const out = new Uint8Array(b.length + 1 + rng.int(40));
      out.set(b);
      for (let i = b.length; i < out.length; i++) out[i] = rng.int(256);
      return out;
    }
    default: {
      // lengths and counts to extremes
      b[at()] = rng.chance(0.5) ? 0xff : 0;
      return b;
    }
  }
}

describe('decoders under random input', () => {
  const modes = (ch: number) => (ch === 0 || ch === 2 ? ('id' as const) : ch === 1 || ch === 15 ? ('plain' as const) : undefined);
  it('throw nothing but DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1300 }), (bytes) => {
        decodesOrDecodeError(() => decodeHeader(bytes));
        decodesOrDecodeError(() => decodeRecords(bytes, modes));
        decodesOrDecodeError(() => decodeControl(bytes));
        decodesOrDecodeError(() => decodeControlRecord(bytes));
        const p = inspectPacket(bytes);
        expect(['data', 'control', 'malformed']).toContain(p.kind);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('a live connection under hostile datagrams', () => {
  it('counts them, stays bounded and keeps delivering legitimate traffic', () => {
    const channels = [
      { kind: 'reliable-ordered' as const, maxQueuedBytes: 256 * 1024 },
      { kind: 'reliable-unordered' as const, maxQueuedBytes: 256 * 1024 },
      { kind: 'unreliable-sequenced' as const, maxQueuedBytes: 256 * 1024 },
      { kind: 'unreliable' as const, maxQueuedBytes: 256 * 1024 },
    ];
    const rng = new Random(1234);
    // Datagrams the link lost, per direction: corrupted copies of them go to the side they were meant for.
    const sent = new Map<string, Uint8Array>();
    const captured = { 'a-to-b': [] as Uint8Array[], 'b-to-a': [] as Uint8Array[] };
    const legit: number[] = [];
    const MAGIC = 0x5eed;
    const pair = new ConnectionPair({
      server: { channels },
      client: { channels },
      link: {
        seed: 9,
        conditions: { latency: 10, jitter: 3, loss: 0.05 },
        rules: [
          (d) => {
            if (d.bytes[0]! >>> 6 !== 1) sent.set(`${d.direction}:${d.index}`, d.bytes.slice()); // data packets only
            return false; // observe only
          },
        ],
        trace: (e) => {
          const b = sent.get(`${e.direction}:${e.index}`);
          sent.delete(`${e.direction}:${e.index}`);
          if (e.type === 'drop' && b && captured[e.direction].length < 4000) captured[e.direction].push(b);
        },
      },
      onServerEvent: (e: ConnectionEvent) => {
        if (e.type !== 'message' || e.channel !== 0 || e.data.length !== 8) return;
        const v = new DataView(e.data.buffer, e.data.byteOffset);
        if (v.getUint32(0) === MAGIC) legit.push(v.getUint32(4));
      },
    });
    pair.connect();
    const send = (n: number, magic = MAGIC) => {
      const m = new Uint8Array(8);
      new DataView(m.buffer).setUint32(0, magic);
      new DataView(m.buffer).setUint32(4, n);
      pair.client.send(0, m);
    };
    // Phase 1: real traffic on every channel; what the link loses is kept for corruption.
    for (let i = 0; i < 1000; i++) {
      pair.sim.at(pair.sim.now + i * 3, () => {
        send(100_000 + i, 0);
        for (let ch = 1; ch < 4; ch++) pair.client.send(ch, new Uint8Array(1 + (i % 3000)));
        pair.server.send(0, new Uint8Array(20));
      });
    }
    pair.sim.runUntil(pair.sim.now + 2000);
    expect(captured['a-to-b'].length).toBeGreaterThan(20);
    expect(captured['b-to-a'].length).toBeGreaterThan(20);

    // Phase 2: a storm of random and corrupted datagrams into both sides (headers of lost packets kept intact).
    const corrupt = (b: Uint8Array) => mutate(rng, b, headerSize(decodeHeader(b)));
    const stormStart = pair.sim.now;
    for (let i = 0; i < 20_000; i++) {
      const t = stormStart + i * 0.1;
      pair.sim.at(t, (now) => {
        const toServer = rng.chance(0.5);
        const target = toServer ? pair.server : pair.client;
        const pool = captured[toServer ? 'b-to-a' : 'a-to-b'];
        const d = rng.chance(0.3) ? Uint8Array.from({ length: rng.int(1300) }, () => rng.int(256)) : corrupt(pool[rng.int(pool.length)]!);
        expect(() => target.handle(d, now)).not.toThrow();
      });
    }
    let maxBuffered = 0;
    for (let t = stormStart; t < stormStart + 2000; t += 50) {
      pair.sim.at(t, () => {
        for (const c of [pair.server, pair.client])
          for (const ch of c.stats().channels) maxBuffered = Math.max(maxBuffered, ch.bufferedBytes);
      });
    }
    pair.sim.runUntil(stormStart + 3000);
    expect(pair.server.stats().malformedPackets + pair.client.stats().malformedPackets).toBeGreaterThan(10_000);
    // Hostile bytes are malformed input, never a failure of ours.
    expect(pair.server.stats().internalErrors + pair.client.stats().internalErrors).toBe(0);
    expect(maxBuffered).toBeLessThanOrEqual(256 * 1024);
    expect(pair.server.state).toBe('connected');
    expect(pair.client.state).toBe('connected');

    // Phase 3: move every channel's ids past anything a forged record could have claimed (one window),
    // then 200 checked messages must arrive exactly once, in order.
    for (let i = 0; i < 1100; i++) pair.sim.at(pair.sim.now + i, () => send(200_000 + i, 0));
    pair.sim.runUntil(pair.sim.now + 3000);
    for (let i = 0; i < 200; i++) pair.sim.at(pair.sim.now + i, () => send(i));
    pair.sim.runWhile(() => legit.length < 200, pair.sim.now + 60_000);
    expect(legit).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
