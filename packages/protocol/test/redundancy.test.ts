/**
 * Redundancy of small reliable messages (channel option `redundancy`, docs/protocol.md §6): copies ride in
 * the packets that follow while the link loses packets, and cost nothing on a clean link. Seeded links in
 * simulated time; the claims are relative (with against without, in the same run).
 */

import { describe, expect, it } from 'vitest';
import { ConfigError, Connection, ConnectionPair, type ChannelOptions } from '../src/index.js';

/** 60 messages a second × 64 B on reliable-ordered for 20 s, 30 ms each way: what arrived, its one-way latency, and the client's stats. */
function stream(loss: number, seed: number, redundancy?: ChannelOptions['redundancy']) {
  const channels: ChannelOptions[] = [{ kind: 'reliable-ordered', ...(redundancy ? { redundancy } : {}) }];
  const order: number[] = [];
  const latency: number[] = [];
  const pair = new ConnectionPair({
    server: { channels },
    client: { channels },
    link: { seed, conditions: { latency: 30, loss } },
    onServerEvent: (e, now) => {
      if (e.type !== 'message') return;
      const v = new DataView(e.data.buffer, e.data.byteOffset);
      order.push(v.getUint32(8));
      latency.push(now - v.getFloat64(0));
    },
  });
  pair.connect();
  const t0 = pair.sim.now;
  for (let i = 0; i < 1200; i++) {
    pair.sim.at(t0 + i * (1000 / 60), (now) => {
      const m = new Uint8Array(64);
      new DataView(m.buffer).setFloat64(0, now);
      new DataView(m.buffer).setUint32(8, i);
      pair.client.send(0, m);
    });
  }
  pair.sim.runUntil(t0 + 25_000);
  latency.sort((a, b) => a - b);
  return { order, p99: latency[Math.floor(0.99 * latency.length)]!, stats: pair.client.stats() };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('redundancy', () => {
  it('costs nothing on a clean link: no copy is sent', () => {
    const { order, stats } = stream(0, 1, { copies: 2 });
    expect(order).toEqual(range(1200));
    expect(stats.redundantCopies).toBe(0);
  });

  it('at 10 % and 20 % loss: every message once and in order, with a lower p99 than without, and bounded copies', () => {
    for (const loss of [0.1, 0.2]) {
      for (const seed of [1, 2]) {
        const plain = stream(loss, seed);
        const copied = stream(loss, seed, { copies: 2 });
        const at = `loss ${loss}, seed ${seed}`;
        const perMessage = (r: typeof plain) => (r.stats.bytesSent / 1200).toFixed(0);
        console.log(
          `redundancy, ${at}: p99 ${plain.p99.toFixed(0)} ms without, ${copied.p99.toFixed(0)} ms with 2 copies; ` +
            `bytes sent per message ${perMessage(plain)} and ${perMessage(copied)}`,
        );
        expect(copied.order, at).toEqual(range(1200));
        expect(plain.order, at).toEqual(range(1200));
        expect(copied.stats.redundantCopies, at).toBeGreaterThan(600);
        expect(copied.stats.redundantCopies, at).toBeLessThanOrEqual(2 * 1200 * 2); // each send of a message (first or resent) gets at most 2 copies
        expect(copied.p99, at).toBeLessThan(plain.p99 * 0.75);
        expect(copied.stats.retransmissions, at).toBeLessThan(plain.stats.retransmissions);
      }
    }
  });

  it('without the option, a resent small message also rides once in the next packet: fewer resends, a lower p99', () => {
    for (const loss of [0.1, 0.2]) {
      const plain = stream(loss, 1);
      const at = `loss ${loss}`;
      expect(plain.order, at).toEqual(range(1200));
      // Only resends are copied, once each: never more copies than resends.
      expect(plain.stats.redundantCopies, at).toBeGreaterThan(0);
      expect(plain.stats.redundantCopies, at).toBeLessThanOrEqual(plain.stats.retransmissions);
    }
    // Without the copy of each resend, p99 here was 174 ms (a lost resend waits for another round trip).
    expect(stream(0.1, 1).p99).toBeLessThan(150);
  });

  it('copies only messages up to its maxMessageSize', () => {
    const channels: ChannelOptions[] = [{ kind: 'reliable-ordered', redundancy: { copies: 4, maxMessageSize: 32 } }];
    const pair = new ConnectionPair({
      server: { channels },
      client: { channels },
      link: { seed: 3, conditions: { latency: 30, loss: 0.2 } },
    });
    pair.connect();
    const t0 = pair.sim.now;
    for (let i = 0; i < 300; i++) pair.sim.at(t0 + i * 17, () => pair.client.send(0, new Uint8Array(64)));
    pair.sim.runUntil(t0 + 15_000);
    expect(pair.client.stats().redundantCopies).toBe(0);
  });

  it('is refused, saying why, on an unreliable channel or with copies out of range', () => {
    expect(() => Connection.client({ nonce: 1, channels: [{ kind: 'unreliable', redundancy: { copies: 1 } }] })).toThrow(ConfigError);
    expect(() => Connection.client({ nonce: 1, channels: [{ kind: 'unreliable', redundancy: { copies: 1 } }] })).toThrow(
      /reliable channels/,
    );
    expect(() => Connection.client({ nonce: 1, channels: [{ kind: 'reliable-ordered', redundancy: { copies: 5 } }] })).toThrow(/1\.\.4/);
  });
});
