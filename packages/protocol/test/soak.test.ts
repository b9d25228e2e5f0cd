/**
 * Soak: a long stream under loss, across more than three full wraps of the 16-bit packet sequence
 * (and of message ids), checking that every reliable message arrives once, in order, and that every
 * buffer stays within its bounds the whole time.
 */

import { describe, expect, it } from 'vitest';
import { ConnectionPair, type ConnectionEvent } from '../src/index.js';

describe('soak', () => {
  it('stays exact and bounded across 3+ packet-sequence wraps at 10 % loss', () => {
    const total = 210_000; // > 3 × 65536 packets: one small message per packet, sent 1 ms apart
    const channels = [
      { kind: 'reliable-ordered' as const, maxMessageSize: 1024, maxQueuedBytes: 64 * 1024 },
      { kind: 'unreliable' as const },
    ];
    let next = 0;
    let bad = 0;
    let unreliable = 0;
    const pair = new ConnectionPair({
      server: { channels, pingInterval: 250 },
      client: { channels, pingInterval: 250 },
      link: { seed: 42, conditions: { loss: 0.1, latency: 20, jitter: 5 } },
      onServerEvent: (e: ConnectionEvent) => {
        if (e.type !== 'message') return;
        if (e.channel === 1) return void unreliable++;
        const n = new DataView(e.data.buffer, e.data.byteOffset).getUint32(0);
        if (n !== next) bad++;
        next = n + 1;
      },
    });
    pair.connect();
    const t0 = pair.sim.now;
    let maxInFlight = 0;
    let maxBuffered = 0;
    let maxPending = 0;
    const msg = new Uint8Array(8);
    const view = new DataView(msg.buffer);
    for (let i = 0; i < total; i += 1000) {
      pair.sim.at(t0 + i, () => {
        for (let k = 0; k < 1000; k++) {
          pair.sim.at(t0 + i + k, () => {
            view.setUint32(0, i + k);
            pair.client.send(0, msg);
            if ((i + k) % 10 === 0) pair.client.send(1, msg);
          });
        }
        const c = pair.client.stats();
        const s = pair.server.stats();
        maxInFlight = Math.max(maxInFlight, c.packetsInFlight);
        maxPending = Math.max(maxPending, c.pendingReliableBytes);
        maxBuffered = Math.max(maxBuffered, s.channels[0]!.bufferedBytes);
      });
    }
    pair.sim.runWhile(() => next < total, t0 + total + 60_000);
    const c = pair.client.stats();
    expect(bad).toBe(0);
    expect(next).toBe(total);
    expect(c.packetsSent).toBeGreaterThan(3 * 65536);
    expect(c.packetsLost).toBeGreaterThan(0);
    expect(unreliable).toBeGreaterThan(0.8 * (total / 10));
    expect(maxPending).toBeLessThanOrEqual(64 * 1024);
    expect(maxBuffered).toBeLessThanOrEqual(64 * 1024);
    expect(maxInFlight).toBeLessThan(1000);
    expect(pair.server.stats().malformedPackets).toBe(0);
    expect(pair.server.stats().internalErrors + pair.client.stats().internalErrors).toBe(0);
    expect(pair.client.state).toBe('connected');
  });
});
