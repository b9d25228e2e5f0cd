import { describe, expect, it } from 'vitest';
import { ConnectionPair, SendError, type ChannelOptions, type ConnectionEvent } from '../src/index.js';

function pattern(size: number, salt: number): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff;
  return b;
}

function transfer(channels: ChannelOptions[], sizes: number[], link: { loss?: number; latency?: number; seed?: number } = {}) {
  const got: Uint8Array[] = [];
  const pair = new ConnectionPair({
    server: { channels },
    client: { channels },
    link: { seed: link.seed ?? 1, conditions: { loss: link.loss ?? 0, latency: link.latency ?? 10 } },
    onServerEvent: (e: ConnectionEvent) => void (e.type === 'message' && got.push(e.data)),
  });
  pair.connect();
  sizes.forEach((s, i) => pair.client.send(0, pattern(s, i)));
  pair.sim.runWhile(() => got.length < sizes.length, pair.sim.now + 120_000);
  pair.sim.runUntil(pair.sim.now + 500);
  return { got, pair };
}

describe('fragmentation', () => {
  // MTU 1200: whole messages up to 1200 − 10 − 5 = 1185 bytes; fragments carry 1200 − 10 − 9 = 1181.
  const boundary = [1, 1183, 1184, 1185, 1186, 1187, 1181 * 2 - 1, 1181 * 2, 1181 * 2 + 1, 1181 * 3];

  it('delivers sizes around the MTU boundary intact, in order', () => {
    const { got, pair } = transfer([{ kind: 'reliable-ordered' }], boundary);
    expect(got.map((g) => g.length)).toEqual(boundary);
    got.forEach((g, i) => expect(g).toEqual(pattern(boundary[i]!, i)));
    expect(pair.client.stats().packetsSent).toBeGreaterThan(1);
  });

  it('splits only what does not fit: 1185 bytes travel in one packet, 1186 in two', () => {
    for (const [size, packets] of [
      [1185, 1],
      [1186, 2],
    ] as const) {
      const pair = new ConnectionPair({ server: { pingInterval: 0 }, client: { pingInterval: 0 } });
      pair.connect();
      pair.client.send(0, new Uint8Array(size));
      const out = pair.client.poll(pair.sim.now);
      expect(out.length).toBe(packets);
      for (const d of out) expect(d.length).toBeLessThanOrEqual(1200);
    }
  });

  it('delivers a 256 KiB message over a lossy link, resending only lost fragments', () => {
    const size = 256 * 1024;
    // (Room for both at once: the default queue, 256 KiB, holds the big one alone.)
    const { got, pair } = transfer([{ kind: 'reliable-ordered', maxQueuedBytes: 1 << 20 }], [size, 100], {
      loss: 0.1,
      latency: 30,
      seed: 5,
    });
    expect(got.length).toBe(2);
    expect(got[0]).toEqual(pattern(size, 0));
    const s = pair.client.stats();
    const fragments = Math.ceil(size / 1181);
    expect(s.retransmissions).toBeGreaterThan(0);
    // Resending fragment by fragment: far fewer resends than a whole-message resend per loss.
    expect(s.retransmissions).toBeLessThan(fragments);
  });

  it('handles the configured maximum, and rejects one byte more clearly at send()', () => {
    const max = 1024 * 1024;
    const ch: ChannelOptions[] = [{ kind: 'reliable-unordered', maxMessageSize: max, maxQueuedBytes: 2 * max }];
    const { got, pair } = transfer(ch, [max]);
    expect(got[0]).toEqual(pattern(max, 0));
    let err: unknown;
    try {
      pair.client.send(0, new Uint8Array(max + 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SendError);
    expect((err as SendError).code).toBe('message-too-large');
    expect((err as SendError).message).toMatch(/1048577 bytes exceeds channel 0's maxMessageSize of 1048576/);
  });

  it('delivers unreliable fragmented messages whole or not at all', () => {
    const sizes = Array.from({ length: 40 }, () => 5000);
    const { got, pair } = transfer([{ kind: 'unreliable' }], sizes, { loss: 0.1, seed: 11 });
    pair.sim.runUntil(pair.sim.now + 5000); // past the reassembly timeout
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(40);
    for (const g of got) expect(g.length).toBe(5000);
    const st = pair.server.stats();
    expect(st.channels[0]!.bufferedMessages).toBe(0); // partials were dropped, not kept
    expect(st.messagesDropped).toBeGreaterThan(0);
  });

  it('delivers the newest fragmented unreliable-sequenced message and drops older partials', () => {
    const sizes = Array.from({ length: 20 }, () => 3000);
    const { got } = transfer([{ kind: 'unreliable-sequenced' }], sizes, { loss: 0.05, seed: 2 });
    expect(got.length).toBeGreaterThan(0);
    for (const g of got) expect(g.length).toBe(3000);
  });
});
