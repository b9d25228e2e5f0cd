/**
 * Congestion control and pacing in simulated time (docs/congestion.md): a bulk upload through a bottleneck
 * with a small tail-drop queue, a 60 Hz stream beside it on the same connection, and a game's light
 * traffic, which the controller must never hold back. Seeded links; behaviour, not speed, is asserted.
 */

import { describe, expect, it } from 'vitest';
import { ConnectionPair, type ChannelOptions, type ConnectionEvent } from '../src/index.js';
import { Pacer } from '../src/pacer.js';
import { DeliveryRate } from '../src/delivery-rate.js';
import type { SentPacket } from '../src/sent-packets.js';

// 2 Mbit/s, 28.9 KB of queue, 20 ms each way.
const BOTTLENECK = { latency: 20, bandwidth: 250_000, queueLimit: 28_900 };

interface Run {
  pair: ConnectionPair;
  /** Bulk bytes delivered in order, and whether the order held. */
  delivered: number;
  inOrder: boolean;
  /** One-way latency of each stream message, ms. */
  stream: number[];
}

/** Uploads `total` bytes in 1000-byte messages on channel 0 (refilled whenever back-pressure allows), with a 60 Hz × 64 B stream on channel 1 if `stream`. */
function upload(total: number, seed: number, stream?: ChannelOptions['kind']): Run {
  const channels: ChannelOptions[] = [
    { kind: 'reliable-ordered', maxQueuedBytes: 1 << 20 },
    { kind: stream ?? 'unreliable', priority: 10 },
  ];
  const run: Run = { pair: undefined as never, delivered: 0, inOrder: true, stream: [] };
  let expected = 0;
  const onServerEvent = (e: ConnectionEvent, now: number) => {
    if (e.type !== 'message') return;
    if (e.channel === 0) {
      if (e.data[0] !== expected % 251) run.inOrder = false;
      expected++;
      run.delivered += e.data.length;
    } else run.stream.push(now - new DataView(e.data.buffer, e.data.byteOffset).getFloat64(0));
  };
  const pair = (run.pair = new ConnectionPair({
    server: { channels },
    client: { channels },
    link: { seed, conditions: BOTTLENECK },
    onServerEvent,
  }));
  pair.connect();
  const t0 = pair.sim.now;
  let sent = 0;
  const refill = (now: number) => {
    while (sent < total && pair.client.stats().pendingReliableBytes < 512 * 1024) {
      pair.client.send(0, new Uint8Array(1000).fill((sent / 1000) % 251));
      sent += 1000;
    }
    if (run.delivered < total) pair.sim.at(now + 1, refill);
  };
  pair.sim.at(t0, refill);
  if (stream) {
    const tick = (now: number) => {
      const m = new Uint8Array(64);
      new DataView(m.buffer).setFloat64(0, now);
      pair.client.send(1, m);
      if (run.delivered < total) pair.sim.at(now + 1000 / 60, tick);
    };
    pair.sim.at(t0 + 500, tick);
  }
  pair.sim.runWhile(() => run.delivered < total, t0 + 120_000);
  return run;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

describe('congestion control', () => {
  it('a 1 MB upload through a 2 Mbit/s bottleneck with a 29 KB queue: all of it, in order, with hardly a byte more on the wire', () => {
    for (const seed of [1, 2, 3]) {
      const { pair, delivered, inOrder } = upload(1_000_000, seed);
      const s = pair.client.stats();
      expect(delivered, `seed ${seed}`).toBe(1_000_000);
      expect(inOrder).toBe(true);
      // Without congestion control this put 4× the payload on the wire (most of it dropped at the queue).
      expect(s.bytesSent / 1_000_000, `seed ${seed}`).toBeLessThan(1.05);
      expect(pair.link.stats()['b-to-a'].dropped, `seed ${seed}`).toBeLessThan(20);
      // It learned the path: the bottleneck's rate, the base round trip (40 ms plus a packet's serialization).
      expect(s.congestion.state).toBe('probe-bandwidth');
      expect(s.congestion.bandwidth).toBeGreaterThan(0.9 * 250_000);
      expect(s.congestion.bandwidth).toBeLessThan(1.1 * 250_000);
      expect(s.congestion.minRtt).toBeGreaterThanOrEqual(40);
      expect(s.congestion.minRtt).toBeLessThan(50);
    }
  });

  it('a 60 Hz stream on the same connection, during the upload, stays out of the queue the upload would build', () => {
    for (const kind of ['unreliable', 'reliable-ordered'] as const) {
      const { delivered, stream } = upload(1_000_000, 4, kind);
      expect(delivered).toBe(1_000_000);
      expect(stream.length).toBeGreaterThan(200);
      // The full queue alone is 116 ms at this rate; the stream waits for a small part of it at most. Startup
      // ends when the queue starts building, and bursts are 2 packets once the bandwidth is known: with
      // startup's window at 2.89 BDP and 10-packet bursts throughout, p99 was 56 ms here.
      expect(quantile(stream, 0.99), kind).toBeLessThan(20 + 25);
    }
  });

  it("never holds back a game's light traffic: 60 messages a second arrive after the link's latency, not later", () => {
    const lat: number[] = [];
    const pair = new ConnectionPair({
      link: { seed: 9, conditions: { latency: 40 } },
      onServerEvent: (e, now) =>
        void (e.type === 'message' && lat.push(now - new DataView(e.data.buffer, e.data.byteOffset).getFloat64(0))),
    });
    pair.connect();
    for (let i = 0; i < 600; i++) {
      pair.sim.at(pair.sim.now + i * (1000 / 60), (now) => {
        const m = new Uint8Array(i % 20 === 0 ? 6000 : 64); // now and then a big one (5 packets at once)
        new DataView(m.buffer).setFloat64(0, now);
        pair.client.send(i % 2, m);
      });
    }
    pair.sim.runUntil(pair.sim.now + 12_000);
    expect(lat.length).toBe(600);
    expect(Math.max(...lat)).toBeLessThan(40 + 1);
    expect(pair.client.stats().congestion.state).toBe('startup'); // application-limited all along
  });

  it('the pacer spaces packets at its rate after a burst of 10 (at most the window), and starts with the initial window', () => {
    const p = new Pacer(1200, 12_000, 0);
    p.setRate(100, Infinity); // bytes per ms
    const burst = (now: number) => {
      let n = 0;
      for (; n < 100 && p.allows(now); n++) p.onSent(1200, now);
      return n;
    };
    expect(burst(0)).toBe(10); // the initial window
    expect(p.allows(0.01)).toBe(true); // a token's worth has come back
    p.onSent(1200, 0.01);
    expect(p.nextSendTime(0.01)).toBeCloseTo(12, 6); // 1199 bytes short at 100 per ms
    expect(burst(6)).toBe(0);
    expect(burst(12.01)).toBe(1);
    expect(burst(1000)).toBe(10); // after idling: ten packets back to back, not more
    p.setRate(100, 4800);
    expect(burst(2000)).toBe(4); // never more than the window at once
    p.setRate(100, Infinity, 2); // the bandwidth is measured: two packets (or 2 ms of the rate)
    expect(burst(3000)).toBe(2);
    p.setRate(6000, Infinity, 2);
    expect(burst(4000)).toBe(10); // 2 ms at 6000 bytes per ms
  });

  it('delivery-rate samples measure the rate acks come back at, not how fast a burst left', () => {
    const rate = new DeliveryRate(0);
    const packets: SentPacket[] = [];
    let inFlight = 0;
    for (let i = 0; i < 10; i++) {
      const p: SentPacket = { seq: i, sentAt: 0, size: 1000, units: [], delivered: 0, deliveredAt: 0, firstSentAt: 0, appLimited: false };
      rate.onSent(p, inFlight, 0);
      inFlight += 1000;
      packets.push(p);
    }
    // Sent at once; the bottleneck lets one through every 10 ms, so acks return at 100 bytes per ms.
    let last;
    for (const [i, p] of packets.entries()) last = rate.onAcked(p, 50 + 10 * i, 40)?.rate;
    expect(last).toBeCloseTo(10_000 / 140, 6);
  });
});
