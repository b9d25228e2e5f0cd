/**
 * Soak: connect / vanish churn against a real server on 127.0.0.1, over WebSocket and raw UDP. Workers
 * connect clients one after another (createClient/connect from @volley/client), exchange numbered echoes
 * (each must come back once, in order) and close gracefully; every 20th client (5 %) vanishes instead: a
 * child process (vanish-child.mjs) that connects, exchanges its echoes and is SIGKILLed, so its socket goes
 * without a goodbye. The protocol timeout is short, so the server ends those sessions with Timeout.
 *
 * Phases: a warm-up of the same churn, a pause until the server has no session left, a forced GC and the
 * heap figure; then the steady phase (VOLLEY_SOAK_MINUTES, default 0.05 = 3 s: `npm test`; `npm run soak`
 * runs 5), the same pause and GC. Then:
 *  - the server has 0 sessions and 0 pending links (within the timeout + 2 s of the last client);
 *  - it reported one 'connect' per client, and one 'disconnect' each: Closed for the graceful, Timeout for
 *    the vanished, no error;
 *  - heapUsed after the steady phase is within a generous tolerance of heapUsed before it (flat memory:
 *    a leak per session would grow with the minutes).
 * Every loop is bounded by count and time; the server and every child are stopped in afterEach.
 */

import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type TransportKind } from '@volley/client';
import { DisconnectReason, reasonName } from '@volley/protocol';
import { Server } from '@volley/server';
import { ONE_SOURCE_MANY_CLIENTS, ONE_SOURCE_MANY_UDP_CLIENTS } from '../fuzz/live.js';
import { Child } from '../support/child.js';

const MINUTES = Number(process.env.VOLLEY_SOAK_MINUTES ?? 0.05);
if (!(MINUTES > 0)) throw new Error(`VOLLEY_SOAK_MINUTES must be a positive number, got ${process.env.VOLLEY_SOAK_MINUTES}`);
const STEADY_MS = MINUTES * 60_000;
const WARMUP_MS = Math.min(1000, STEADY_MS);
/** Protocol timeout on both sides: how long a vanished client's session lives on the server. */
const TIMEOUT = 1500;
const WORKERS = 8;
const MESSAGES = 10;
const VANISH_EVERY = 20;
const KINDS: TransportKind[] = ['websocket', 'udp'];
/** Heap growth over the steady phase that still counts as flat (the process also runs vitest and the clients). */
const HEAP_TOLERANCE = 24 * 1024 * 1024;
const VANISH_SCRIPT = new URL('./vanish-child.mjs', import.meta.url).pathname;
const MAX_CLIENTS = Math.ceil(STEADY_MS / 2) + 1000; // a bound on the loop, far above what the time allows

const servers: Server[] = [];
const children = new Set<Child>();
afterEach(async () => {
  await Promise.all([...children].map((c) => c.dispose()));
  children.clear();
  for (const s of servers.splice(0)) await s.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A full GC: --expose-gc if node was started with it, else V8's flag set at run time. */
function gcFunction(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

async function settledHeap(gc: () => void): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

interface Tally {
  graceful: number;
  vanished: number;
  failures: string[];
}

describe('soak: connect / vanish churn over websocket and udp', () => {
  it(
    `${MINUTES} min of clients connecting, echoing and leaving, 5 % vanishing: ends with 0 sessions and flat memory`,
    { timeout: WARMUP_MS + STEADY_MS + 60_000 + (STEADY_MS / 60_000) * 10_000 },
    async () => {
      const server = new Server({
        host: '127.0.0.1',
        port: 0,
        udpPort: 0,
        transports: KINDS,
        protocol: { timeout: TIMEOUT },
        limits: { handshakeTimeout: 1000, ...ONE_SOURCE_MANY_CLIENTS },
        udp: ONE_SOURCE_MANY_UDP_CLIENTS,
      });
      servers.push(server);
      await server.listen();
      const url = server.address().url;
      server.onMessage('echo', (s, v) => s.send('echo', v));
      const ends = new Map<string, number>();
      const errors: unknown[] = [];
      let connects = 0;
      server.onConnect(() => connects++);
      server.onDisconnect((_s, reason) => ends.set(reasonName(reason), (ends.get(reasonName(reason)) ?? 0) + 1));
      server.onError((e) => errors.push(e));
      const options = (kind: TransportKind) => ({ transports: [kind], protocol: { timeout: TIMEOUT } });
      let next = 0;

      /** One client's life: in this process, graceful; or a child process, killed. */
      async function life(n: number, tally: Tally): Promise<void> {
        const kind = KINDS[n % KINDS.length]!;
        if (n % VANISH_EVERY === VANISH_EVERY - 1) {
          const child = new Child(`vanisher ${n}`, VANISH_SCRIPT, { url, options: options(kind), messages: MESSAGES }, 30_000);
          children.add(child);
          try {
            await child.line('ready', 15_000);
            child.kill();
            await child.waitExit();
            tally.vanished++;
          } catch (e) {
            tally.failures.push(`vanisher ${n} (${kind}): ${(e as Error).message}`);
          } finally {
            children.delete(child);
            await child.dispose();
          }
          return;
        }
        const c = createClient(url, options(kind));
        const got: number[] = [];
        c.onMessage('echo', (v) => got.push(v as number));
        try {
          await c.connect();
          for (let i = 0; i < MESSAGES; i++) c.send('echo', i);
          const deadline = performance.now() + 5000;
          while (got.length < MESSAGES && performance.now() < deadline) await sleep(2);
          if (got.join() !== Array.from({ length: MESSAGES }, (_, i) => i).join()) {
            tally.failures.push(`client ${n} (${kind}): echoes ${JSON.stringify(got)}`);
          }
          await c.close();
          tally.graceful++;
        } catch (e) {
          tally.failures.push(`client ${n} (${kind}): ${(e as Error).message}`);
          await c.close();
        }
      }

      /** WORKERS clients at a time until `ms` pass; then waits until the server has no session left. */
      async function churn(ms: number): Promise<Tally> {
        const tally: Tally = { graceful: 0, vanished: 0, failures: [] };
        const end = performance.now() + ms;
        const worker = async (): Promise<void> => {
          while (performance.now() < end && next < MAX_CLIENTS) await life(next++, tally);
        };
        await Promise.all(Array.from({ length: WORKERS }, worker));
        const quiet = performance.now() + TIMEOUT + 2000;
        while ((server.sessionCount > 0 || server.pendingLinks > 0) && performance.now() < quiet) await sleep(20);
        return tally;
      }

      const gc = gcFunction();
      const warm = await churn(WARMUP_MS);
      expect(warm.failures).toEqual([]);
      const heapBefore = await settledHeap(gc);
      const connectsBefore = connects;
      ends.clear();

      const steady = await churn(STEADY_MS);
      const sessionsAfter = server.sessionCount;
      const pendingAfter = server.pendingLinks;
      const heapAfter = await settledHeap(gc);
      const mb = (n: number) => (n / 1048576).toFixed(1);
      console.info(
        `soak: ${MINUTES} min, ${steady.graceful} graceful + ${steady.vanished} vanished clients over ${KINDS.join(' and ')}; ` +
          `server ends ${JSON.stringify(Object.fromEntries(ends))}; heapUsed ${mb(heapBefore)} → ${mb(heapAfter)} MB`,
      );

      expect(steady.failures).toEqual([]);
      expect(steady.graceful).toBeGreaterThan(0);
      expect(steady.vanished).toBeGreaterThan(0);
      expect({ sessions: sessionsAfter, pendingLinks: pendingAfter, connected: server.clients.length }).toEqual({
        sessions: 0,
        pendingLinks: 0,
        connected: 0,
      });
      expect(connects - connectsBefore).toBe(steady.graceful + steady.vanished);
      expect(Object.fromEntries(ends)).toEqual({
        [reasonName(DisconnectReason.Closed)]: steady.graceful,
        [reasonName(DisconnectReason.Timeout)]: steady.vanished,
      });
      expect(errors.map(String)).toEqual([]);
      expect(heapAfter - heapBefore, `heapUsed ${mb(heapBefore)} → ${mb(heapAfter)} MB`).toBeLessThan(HEAP_TOLERANCE);
    },
  );
});
