/**
 * `volley loadtest` and the server's load report, on loopback: bots (real clients) join the shooter's arena;
 * the report counts them, their traffic, and — through GET /volley/load with the token — the server's CPU,
 * tick steps and bytes. The route answers only with the token, and does not exist without one.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Server } from '@volley/server';
import { formatLoadtest, main, runLoadtest } from 'volley';
import { startShooter } from '../examples/shooter/server/main.js';

const TOKEN = 'load-token-0123456789';
let server: Server | undefined;
const dir = mkdtempSync(join(tmpdir(), 'volley-load-'));
afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('volley loadtest', () => {
  it('puts N bots in the arena and reports their figures and the server’s', async () => {
    server = await startShooter(0, pathToFileURL(`${dir}/`), { udpPort: 0, loadToken: TOKEN });
    const url = server.address().url;
    const lines: string[] = [];
    const r = await runLoadtest(
      { url, bots: 6, room: 'arena', seconds: 1.5, transport: 'udp', token: TOKEN, batch: 3 },
      (l) => void lines.push(l),
    );
    expect(r).toMatchObject({ bots: 6, joined: 6, failures: {} });
    expect(lines).toContain('joined 6/6');
    expect(r.joinMs.p50).toBeGreaterThan(0);
    // 20 patches a second reach every bot (the arena's two server-side bots keep moving).
    expect(r.perBot.stateChanges).toBeGreaterThan(5);
    expect(r.perBot.bytesIn).toBeGreaterThan(0);
    const s = r.server!;
    expect(s.clients).toBe(6);
    expect(s.rooms).toBe(1);
    expect(s.cpuCores).toBeGreaterThan(0);
    expect(s.bytesOutPerClientSecond).toBeGreaterThan(0);
    expect(s.tickMs.samples).toBeGreaterThan(0);
    expect(s.tickMs.p99!).toBeGreaterThanOrEqual(s.tickMs.p50!);
    // What the server sent per client is what the bots received, give or take the edges of the span.
    expect(s.bytesOutPerClientSecond / r.perBot.bytesIn).toBeGreaterThan(0.5);
    expect(s.bytesOutPerClientSecond / r.perBot.bytesIn).toBeLessThan(2);
    const text = formatLoadtest(r);
    expect(text).toMatch(/6\/6 bots in 'arena' over udp/);
    expect(text).toMatch(/µs per client per s/);
    // The bots are gone afterwards.
    await expect.poll(() => server!.sessionCount, { timeout: 5000 }).toBe(0);
  }, 30_000);

  it('GET /volley/load answers only with the token; without a loadToken there is no such route', async () => {
    server = await startShooter(0, pathToFileURL(`${dir}/`), { udpPort: 0, loadToken: TOKEN });
    const url = server.address().url;
    expect((await fetch(`${url}/volley/load`)).status).toBe(401);
    expect((await fetch(`${url}/volley/load`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await fetch(`${url}/volley/load`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ sessions: 0, rooms: 0, ticks: { samples: 0 } });
    await expect(runLoadtest({ url, bots: 1, room: 'arena', seconds: 1, transport: 'udp', token: 'nope-nope-nope-nope' })).rejects.toThrow(
      /refused the load token/,
    );
    await server.close();
    server = new Server({ port: 0, udpPort: 0 });
    await server.listen();
    expect((await fetch(`${server.address().url}/volley/load`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect(() => new Server({ loadToken: 'short' })).toThrow(/at least 16 characters/);
  }, 30_000);

  it('reports joins that fail, by reason, and says so in its exit code', async () => {
    server = await startShooter(0, pathToFileURL(`${dir}/`), { udpPort: 0 });
    const r = await runLoadtest({ url: server.address().url, bots: 2, room: 'no-such-room', seconds: 0.2, transport: 'udp' });
    expect(r.joined).toBe(0);
    expect(Object.values(r.failures).reduce((a, b) => a + b, 0)).toBe(2);
    expect(r.server).toBeUndefined();
    const code = await main(['loadtest', server.address().url, '--bots', '1', '--room', 'no-such-room', '--seconds', '0.2', '--json']);
    expect(code).toBe(1);
    expect(await main(['loadtest', 'not-a-url'])).toBe(2);
    expect(await main(['loadtest', server.address().url, '--transport', 'webrtc'])).toBe(2);
    expect(await main(['loadtest', server.address().url, '--options', '[1]'])).toBe(2);
  }, 30_000);
});
