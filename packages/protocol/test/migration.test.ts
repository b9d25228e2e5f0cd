/**
 * Moving a session to another transport (docs/protocol.md §5): whatever was in flight on the old one is
 * gone; transportChanged() requeues it, and every reliable message still arrives exactly once, in order.
 */

import { describe, expect, it } from 'vitest';
import { ConnectionPair, type ConnectionEvent } from '../src/index.js';

describe('transportChanged', () => {
  for (const [from, to] of [
    [false, true],
    [true, false],
    [false, false],
  ] as const) {
    it(`keeps reliable-ordered exact when switching ${from ? 'reliable' : 'unreliable'} → ${to ? 'reliable' : 'unreliable'} transport`, () => {
      const got = { server: [] as number[], client: [] as number[] };
      const num = (e: ConnectionEvent) => (e.type === 'message' ? new DataView(e.data.buffer, e.data.byteOffset).getUint32(0) : -1);
      let dead = false;
      const ch = [{ kind: 'reliable-ordered' as const }];
      const pair = new ConnectionPair({
        server: { channels: ch, retransmission: !from },
        client: { channels: ch, retransmission: !from },
        link: { seed: 3, conditions: { latency: 20 }, rules: [() => dead] },
        onServerEvent: (e) => void (e.type === 'message' && got.server.push(num(e))),
        onClientEvent: (e) => void (e.type === 'message' && got.client.push(num(e))),
      });
      pair.connect();
      const t0 = pair.sim.now;
      const total = 3000;
      for (let i = 0; i < total; i++) {
        pair.sim.at(t0 + i * 0.5, () => {
          const m = new Uint8Array(8);
          new DataView(m.buffer).setUint32(0, i);
          pair.client.send(0, m);
          pair.server.send(0, m);
        });
      }
      // Mid-stream the old transport dies: everything on it is lost for 300 ms, then the new one is up.
      pair.sim.at(t0 + 600, () => (dead = true));
      pair.sim.at(t0 + 900, (now) => {
        dead = false;
        pair.client.transportChanged(now, to);
        pair.server.transportChanged(now, to);
      });
      pair.sim.runWhile(() => got.server.length < total || got.client.length < total, t0 + 60_000);
      pair.sim.runUntil(pair.sim.now + 1000);
      const all = Array.from({ length: total }, (_, i) => i);
      expect(got.server).toEqual(all);
      expect(got.client).toEqual(all);
      expect(pair.client.retransmission).toBe(!to);
    });
  }
});
