/**
 * The devtools' link conditioner around a real client's transports, on loopback: latency shows in the RTT;
 * on UDP, loss, duplication and reordering are applied and the protocol still delivers every reliable
 * message once and in order; a disconnect cuts UDP for a while and the session carries on; on WebSocket
 * (reliable) nothing is ever lost, only delayed.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '@volley/client';
import { LinkConditioner } from '@volley/devtools';
import type { TraceEvent } from '@volley/protocol';
import { Server } from '@volley/server';
import { echoed } from '../support/echo.js';

let server: Server | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
});

async function setup(
  transport: 'udp' | 'websocket',
  conditioner: LinkConditioner,
  trace?: (e: TraceEvent) => void,
  at: 'client' | 'server' = 'client',
): Promise<{ got: number[] }> {
  server = new Server({ port: 0, udpPort: 0, transports: [transport], ...(at === 'server' ? { wrapLink: conditioner.wrapLink } : {}) });
  const got: number[] = [];
  server.onMessage('echo', (session, v) => session.send('echo', v));
  server.onMessage('n', (_s, v) => void got.push(v as number));
  await server.listen();
  client = await connect(server.address().url, {
    transports: [transport],
    ...(at === 'client' ? { wrap: conditioner.wrap } : {}),
    ...(trace ? { protocol: { trace } } : {}),
  });
  return { got };
}

async function until(ok: () => boolean, ms: number): Promise<void> {
  const end = performance.now() + ms;
  while (!ok() && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
}

describe('LinkConditioner', () => {
  it.each(['udp', 'websocket'] as const)('over %s: 40 ms each way shows as a round trip of 80 ms or more', async (transport) => {
    const conditioner = new LinkConditioner({ latency: 40 });
    await setup(transport, conditioner);
    const rtts: number[] = [];
    for (let i = 0; i < 5; i++) rtts.push(await echoed(client!, i));
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(80);
    // New settings apply at once to what is sent next.
    conditioner.set({ latency: 150 });
    expect(await echoed(client!, 99)).toBeGreaterThanOrEqual(300);
  });

  it('over udp: 20 % loss, duplication and reordering are applied, and every reliable message arrives once, in order', async () => {
    const conditioner = new LinkConditioner({ loss: 0.2, duplicate: 0.1, reorder: 0.1, latency: 10, jitter: 10 }, { seed: 3 });
    const { got } = await setup('udp', conditioner);
    // One message every 10 ms, so each rides its own packet and the link's draws have packets to drop.
    for (let i = 0; i < 150; i++) {
      client!.send('n', i);
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => got.length >= 150, 20_000);
    expect(got).toEqual(Array.from({ length: 150 }, (_, i) => i));
    const { sent, received, dropped } = conditioner.stats;
    expect(dropped / (sent + received)).toBeGreaterThan(0.1);
  });

  it('over udp: a 1.5 s disconnect stops everything, and what was sent meanwhile arrives after', async () => {
    const conditioner = new LinkConditioner({});
    const { got } = await setup('udp', conditioner);
    conditioner.disconnect(1500);
    const cut = performance.now();
    for (let i = 0; i < 20; i++) client!.send('n', i);
    await new Promise((r) => setTimeout(r, 700));
    expect(got).toEqual([]); // nothing gets through the outage
    await until(() => got.length >= 20, 10_000);
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(performance.now() - cut).toBeGreaterThanOrEqual(1500);
    expect(client!.state).toBe('connected');
  });

  it('over websocket (reliable): loss settings are not applied and an outage only delays', async () => {
    const conditioner = new LinkConditioner({ loss: 0.5, duplicate: 0.5, latency: 5 });
    const { got } = await setup('websocket', conditioner);
    conditioner.disconnect(500);
    for (let i = 0; i < 200; i++) client!.send('n', i);
    await until(() => got.length >= 200, 10_000);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(conditioner.stats.dropped).toBe(0);
  });

  it('over udp: dropNext drops the packet carrying that message (B of A, B, C); it is resent and all arrive in order', async () => {
    // 40 ms each way: B cannot be known lost (nor its loss probed) before C is on its way, however slow this machine.
    const conditioner = new LinkConditioner({ latency: 40 });
    const trace: TraceEvent[] = [];
    await setup('udp', conditioner, (e) => void trace.push(e));
    const got: string[] = [];
    client!.onMessage('shot', (v) => void got.push((v as { by: string }).by));
    const dropped = conditioner.dropNext('shot', { direction: 'down', where: (v) => (v as { by: string }).by === 'B' });
    const seen: { type: string; reason?: string; seq?: number; by: string }[] = [];
    conditioner.observe((e) => {
      for (const m of e.messages) {
        if (e.direction === 'down' && m.type === 'shot')
          seen.push({ type: e.type, reason: e.reason, seq: e.seq, by: (m.value() as { by: string }).by });
      }
    });
    for (const by of ['A', 'B', 'C']) {
      server!.broadcast('shot', { by });
      await new Promise((r) => setTimeout(r, 5)); // each in a packet of its own
    }
    const seq = await dropped;
    await until(() => got.length >= 3, 5000);
    expect(got).toEqual(['A', 'B', 'C']); // B was lost on the way, resent, and still delivered before C
    expect(Number.isInteger(seq)).toBe(true);
    expect(conditioner.stats.dropped).toBe(1);
    // observe() saw each shot's packet: B's dropped on purpose (reason 'rule') in the packet dropNext named, then B again.
    expect(seen.map((s) => `${s.type}:${s.by}`)).toEqual(['pass:A', 'drop:B', 'pass:C', 'pass:B']);
    expect(seen[1]).toMatchObject({ reason: 'rule', seq });
    expect(seen[3]!.seq).not.toBe(seq);
    // The client's own trace tells the story: C arrived first and was held, waiting for B; then both delivered.
    const buffered = trace.filter((e) => e.type === 'message-buffered');
    expect(buffered).toHaveLength(1);
    const held = buffered[0] as Extract<TraceEvent, { type: 'message-buffered' }>;
    const delivered = trace.flatMap((e) => (e.type === 'message-delivered' && e.channel === held.channel ? [e.id] : []));
    expect(delivered.slice(-2)).toEqual([held.waitingFor, held.id]);
  });

  it.each(['udp', 'websocket'] as const)(
    'on the server (wrapLink) over %s: latency, and a dropped reply resent and delivered in order',
    async (transport) => {
      const conditioner = new LinkConditioner({ latency: 40 });
      await setup(transport, conditioner, undefined, 'server');
      expect(await echoed(client!, 1)).toBeGreaterThanOrEqual(80);
      const got: string[] = [];
      client!.onMessage('shot', (v) => void got.push((v as { by: string }).by));
      // 'down' is server to client on the server's side too.
      const dropped = conditioner.dropNext('shot', { direction: 'down', where: (v) => (v as { by: string }).by === 'B' });
      for (const by of ['A', 'B', 'C']) {
        server!.broadcast('shot', { by });
        await new Promise((r) => setTimeout(r, 5));
      }
      await until(() => got.length >= 3, 5000);
      expect(got).toEqual(['A', 'B', 'C']);
      if (transport === 'udp') {
        expect(Number.isInteger(await dropped)).toBe(true);
        expect(conditioner.stats.dropped).toBe(1);
      } else expect(conditioner.stats.dropped).toBe(0); // nothing is lost on a reliable transport
    },
  );

  it('refuses bad settings and unknown presets, and keeps the ones it had', () => {
    const c = new LinkConditioner('4g');
    expect(() => c.set({ loss: 2 })).toThrow(RangeError);
    expect(() => c.preset('dial-up' as never)).toThrow(/no link preset/);
    expect(c.settings).toMatchObject({ latency: 40, loss: 0.01 });
    expect(() => c.disconnect(-1)).toThrow(RangeError);
  });
});
