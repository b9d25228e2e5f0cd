/**
 * The memory one session can hold is bounded (docs/security.md, "Memory"): every channel's queue, each way, is
 * capped by its maxQueuedBytes (256 KiB by default: 4 channels × 2 directions = 2 MiB), and the send
 * side altogether by limits.maxSendBuffer (1 MiB). Before, a hostile session held ~2.7 MB (4 × 1 MiB queues),
 * 2.6 GB at the default maxSessions, with nothing saying so.
 *
 * Here 24 hostile sessions do their worst at once: they withhold every third datagram they send (over WebSocket
 * nothing is resent, so the server holds out-of-order messages and partial fragments on every channel for good),
 * and never read what the server sends (no acks), while the server sends to each until it is told to stop. The
 * server runs in its own process (memory-server-child.mjs), so what it holds is measured apart from the
 * attackers: it grows by no more than the bound per session, and all of it is freed when they end (measured
 * after a first, smaller round, so that code compiled and caches filled on the way are not counted as held).
 */

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SendError } from '@volley/protocol';
import { Child } from '../support/child.js';
import { sleep, waitFor } from '../support/wait.js';
import { HostileClient } from './hostile-client.js';

const MiB = 1 << 20;
const SESSIONS = 24;
const CHILD = fileURLToPath(new URL('./memory-server-child.mjs', import.meta.url));

interface Measure {
  held: number;
  heap: number;
  buffers: number;
  sessions: number;
  maxRx: number;
  maxTx: number;
  refused: number;
}

async function measure(server: Child): Promise<Measure> {
  const seen = server.lines.length;
  server.tell('measure');
  await waitFor('a measurement', () => server.lines.slice(seen).some((l) => l.event === 'measure'), 10_000);
  return server.lines.slice(seen).find((l) => l.event === 'measure') as unknown as Measure;
}

/** Connects `count` hostile sessions (ids from `firstId`), each doing its worst on every channel. */
async function attack(url: string, count: number, firstId: number): Promise<HostileClient[]> {
  const hostiles: HostileClient[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const h = await HostileClient.connect(url, new Uint8Array(0), firstId + i);
      expect(h.isConnected).toBe(true);
      h.deafen();
      h.withholdWhere((n) => n % 3 === 0);
      // Up to 1.5 MiB on each channel, in messages of 40 KiB (35 fragments each), as far as its own queues go.
      const body = new Uint8Array(40 * 1024);
      for (let ch = 0; ch < 4; ch++) {
        for (let k = 0; k < 38; k++) {
          try {
            h.sendRaw(body, ch);
          } catch (e) {
            if (!(e instanceof SendError)) throw e;
            break;
          }
        }
      }
      h.withholdWhere(() => false); // the gaps are made (nothing is resent); its keepalives go through again
      hostiles.push(h);
    }
  } catch (e) {
    for (const h of hostiles) h.close();
    throw e;
  }
  return hostiles;
}

/** Closes the sessions and measures once the server has let them go (bounded: 10 s). */
async function endAll(server: Child, hostiles: HostileClient[]): Promise<Measure> {
  for (const h of hostiles) h.close();
  let after = await measure(server);
  for (let i = 0; i < 50 && after.sessions > 0; i++) {
    await sleep(200);
    after = await measure(server);
  }
  return after;
}

describe('the memory a session can hold', () => {
  it('is bounded per session, whatever the peer does, and freed when the session ends', { timeout: 120_000 }, async () => {
    const options = {
      host: '127.0.0.1',
      port: 0,
      transports: ['websocket'],
      protocol: { timeout: 3_000 },
      limits: { newSessionsPerSecondPerSource: 1000, packetsPerSecond: 20_000 }, // not what this test is about
    };
    const server = new Child('memory server', CHILD, { options }, 100_000);
    const hostiles: HostileClient[] = [];
    try {
      const { url } = (await server.line('listening', 10_000)) as unknown as { url: string };
      // A first round warms the server up (compiled code, caches), so that what stays after is measured apart.
      await endAll(server, await attack(url, 2, 1000));
      const before = await measure(server);
      const seen = server.lines.length;
      hostiles.push(...(await attack(url, SESSIONS, 1)));
      await sleep(1000);
      const during = await measure(server);
      const perSession = (during.held - before.held) / SESSIONS;
      console.log(
        `memory: ${SESSIONS} hostile sessions; the server holds ${((during.held - before.held) / MiB).toFixed(1)} MiB more, ` +
          `${(perSession / MiB).toFixed(2)} MiB per session; receive buffers ≤ ${(during.maxRx / 1024).toFixed(0)} KiB, ` +
          `send queues ≤ ${(during.maxTx / 1024).toFixed(0)} KiB per session; ${during.refused} sends refused`,
      );
      expect(server.lines.slice(seen).filter((l) => l.event === 'disconnect')).toEqual([]);
      expect(during.sessions).toBe(SESSIONS);
      expect(during.maxRx).toBeGreaterThan(256 * 1024); // the attack did fill buffers…
      expect(during.maxRx).toBeLessThanOrEqual(4 * 256 * 1024); // …within every channel's cap
      expect(during.maxTx).toBeGreaterThan(256 * 1024);
      expect(during.maxTx).toBeLessThanOrEqual(MiB); // limits.maxSendBuffer
      expect(during.refused).toBeGreaterThan(0);
      expect(perSession).toBeLessThan(2 * MiB + 512 * 1024); // the documented bound, plus bookkeeping

      const after = await endAll(server, hostiles.splice(0));
      console.log(
        `memory: after the sessions ended, the server holds ${((after.held - before.held) / MiB).toFixed(1)} MiB more than before ` +
          `(heap ${((after.heap - before.heap) / MiB).toFixed(1)}, buffers ${((after.buffers - before.buffers) / MiB).toFixed(1)})`,
      );
      expect(after.sessions).toBe(0);
      expect(after.held - before.held).toBeLessThan(4 * MiB);
    } finally {
      for (const h of hostiles) h.close();
      await server.dispose();
    }
  });
});
