/**
 * The devtools' link conditioner around a real client's transports, on loopback: latency shows in the RTT;
 * on UDP, loss, duplication and reordering are applied and the protocol still delivers every reliable
 * message once and in order; a disconnect cuts UDP for a while and the session carries on; on WebSocket
 * (reliable) nothing is ever lost, only delayed.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '@volley/client';
import { LinkConditioner } from '@volley/devtools';
import { Server } from '@volley/server';
import { echoed } from '../support/echo.js';

let server: Server | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
});

async function setup(transport: 'udp' | 'websocket', conditioner: LinkConditioner): Promise<{ got: number[] }> {
  server = new Server({ port: 0, udpPort: 0, transports: [transport] });
  const got: number[] = [];
  server.onMessage('echo', (session, v) => session.send('echo', v));
  server.onMessage('n', (_s, v) => void got.push(v as number));
  await server.listen();
  client = await connect(server.address().url, { transports: [transport], wrap: conditioner.wrap });
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

  it('refuses bad settings and unknown presets, and keeps the ones it had', () => {
    const c = new LinkConditioner('4g');
    expect(() => c.set({ loss: 2 })).toThrow(RangeError);
    expect(() => c.preset('dial-up' as never)).toThrow(/no link preset/);
    expect(c.settings).toMatchObject({ latency: 40, loss: 0.01 });
    expect(() => c.disconnect(-1)).toThrow(RangeError);
  });
});
