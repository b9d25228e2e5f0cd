/**
 * Delivery guarantees under random link conditions (fast-check). Each run builds a fresh pair over a
 * seeded link, streams numbered messages both ways and checks the channel's promise. On failure fast-check
 * prints the counterexample, including the link seed, and its own seed to replay the run.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectionPair, SendError, type ChannelKind, type ConnectionEvent } from '../src/index.js';

interface Run {
  kind: ChannelKind;
  seed: number;
  loss: number;
  duplicate: number;
  reorder: number;
  jitter: number;
  latency: number;
  count: number;
  size: number;
  spacing: number;
  /** Reliable kinds: redundant copies of small messages (0: off). */
  copies: number;
}

function runStream(r: Run): { server: number[]; client: number[] } {
  const got = { server: [] as number[], client: [] as number[] };
  const num = (e: ConnectionEvent) => (e.type === 'message' ? new DataView(e.data.buffer, e.data.byteOffset).getUint32(0) : -1);
  const redundancy = r.copies > 0 && r.kind.startsWith('reliable') ? { redundancy: { copies: r.copies, maxMessageSize: 64 } } : {};
  const channels = [{ kind: r.kind, ...redundancy }];
  const opts = { channels, timeout: 120_000, pingInterval: 500 };
  const pair = new ConnectionPair({
    server: opts,
    client: { ...opts, nonce: r.seed },
    link: { seed: r.seed, conditions: { loss: r.loss, duplicate: r.duplicate, reorder: r.reorder, jitter: r.jitter, latency: r.latency } },
    onServerEvent: (e) => void (e.type === 'message' && got.server.push(num(e))),
    onClientEvent: (e) => void (e.type === 'message' && got.client.push(num(e))),
  });
  if (!pair.connect(120_000)) throw new Error(`no connection (link seed ${r.seed})`);
  const t0 = pair.sim.now;
  // Each side sends message i at t0 + i·spacing; on back-pressure it retries 5 ms later, as a game would.
  for (const side of [pair.client, pair.server]) {
    let next = 0;
    const pump = (now: number) => {
      while (next < r.count && t0 + next * r.spacing <= now) {
        const m = new Uint8Array(r.size);
        new DataView(m.buffer).setUint32(0, next);
        try {
          side.send(0, m);
        } catch (e) {
          if (!(e instanceof SendError && e.code === 'backpressure')) throw e;
          break;
        }
        next++;
      }
      if (next < r.count) pair.sim.at(Math.max(now + 5, t0 + next * r.spacing), pump);
    };
    pair.sim.at(t0, pump);
  }
  const reliable = r.kind.startsWith('reliable');
  const end = t0 + r.count * r.spacing;
  if (reliable) {
    const done = pair.sim.runWhile(() => got.server.length < r.count || got.client.length < r.count || pair.sim.now < end, end + 600_000);
    if (!done) throw new Error(`reliable stream incomplete: ${got.server.length}/${got.client.length} of ${r.count} (link seed ${r.seed})`);
    pair.sim.runUntil(pair.sim.now + 2000); // anything duplicated late would show now
  } else {
    pair.sim.runUntil(end + 5000);
  }
  const internal = pair.server.stats().internalErrors + pair.client.stats().internalErrors;
  if (internal !== 0) throw new Error(`${internal} internal error(s) (link seed ${r.seed})`);
  return got;
}

const run = (kind: ChannelKind) =>
  fc.record<Run>({
    kind: fc.constant(kind),
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    loss: fc.double({ min: 0, max: 0.5, noNaN: true }),
    duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
    reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
    jitter: fc.integer({ min: 0, max: 60 }),
    latency: fc.integer({ min: 1, max: 120 }),
    count: fc.integer({ min: 1, max: 250 }),
    size: fc.oneof(fc.integer({ min: 4, max: 64 }), fc.integer({ min: 1000, max: 5000 })),
    spacing: fc.integer({ min: 0, max: 20 }),
    copies: fc.integer({ min: 0, max: 4 }),
  });

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const params = { numRuns: 25 };

describe('delivery guarantees under loss, duplication, reordering and jitter (property)', () => {
  it('reliable-ordered delivers every message exactly once, in order', () => {
    fc.assert(
      fc.property(run('reliable-ordered'), (r) => {
        const got = runStream(r);
        expect(got.server).toEqual(range(r.count));
        expect(got.client).toEqual(range(r.count));
      }),
      params,
    );
  });

  it('reliable-unordered delivers every message exactly once', () => {
    fc.assert(
      fc.property(run('reliable-unordered'), (r) => {
        const got = runStream(r);
        expect([...got.server].sort((a, b) => a - b)).toEqual(range(r.count));
        expect([...got.client].sort((a, b) => a - b)).toEqual(range(r.count));
      }),
      params,
    );
  });

  it('unreliable-sequenced never delivers an older message after a newer one', () => {
    fc.assert(
      fc.property(run('unreliable-sequenced'), (r) => {
        const got = runStream(r);
        for (const side of [got.server, got.client]) {
          for (let i = 1; i < side.length; i++) expect(side[i]).toBeGreaterThan(side[i - 1]!);
        }
      }),
      params,
    );
  });

  it('unreliable never duplicates', () => {
    fc.assert(
      fc.property(run('unreliable'), (r) => {
        const got = runStream(r);
        for (const side of [got.server, got.client]) {
          expect(new Set(side).size).toBe(side.length);
          for (const n of side) expect(n).toBeLessThan(r.count);
        }
      }),
      params,
    );
  });

  it('a perfect link loses nothing on unreliable channels either', () => {
    for (const kind of ['unreliable', 'unreliable-sequenced'] as const) {
      const got = runStream({
        kind,
        seed: 1,
        loss: 0,
        duplicate: 0,
        reorder: 0,
        jitter: 0,
        latency: 10,
        count: 200,
        size: 16,
        spacing: 1,
        copies: 0,
      });
      expect(got.server).toEqual(range(200));
    }
  });
});
