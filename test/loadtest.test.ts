/**
 * `volley loadtest` and the server's load report, on loopback: bots (real clients, in worker processes) join
 * the shooter's arena and play as the page does (examples/shooter/loadtest-bot.ts); the report counts them
 * and — through GET /volley/load with the token — the server's CPU, tick steps and bytes per player. The
 * route answers only with the token, and does not exist without one. test/scaling/processes.test.ts runs it
 * across three processes.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
    const script = fileURLToPath(new URL('../examples/shooter/loadtest-bot.ts', import.meta.url));
    const r = await runLoadtest(
      { urls: [url], bots: 6, room: 'arena', seconds: 1.5, transport: 'udp', token: TOKEN, batch: 3, workers: 2, script },
      (l) => void lines.push(l),
    );
    expect(r).toMatchObject({ bots: 6, joined: 6, failures: {}, workers: 2 });
    expect(r.botCpuCores).toBeGreaterThan(0);
    expect(lines.some((l) => /^joined +\[█+\] 6\/6$/.test(l))).toBe(true);
    expect(lines.some((l) => l.startsWith('measuring '))).toBe(true);
    expect(r.joinMs.p50).toBeGreaterThan(0);
    expect(r.processes).toHaveLength(1);
    const p = r.processes[0]!;
    expect(p.url).toBe(new URL(url).origin);
    expect(p.bots).toBe(6);
    // 20 patches a second reach every bot (they and the arena's two server-side bots keep moving).
    expect(p.stateChangesPerBotSecond).toBeGreaterThan(5);
    const s = p.server!;
    expect(p.processId).toBe(server.matchmaker.processId);
    expect(s.players).toBe(6);
    expect(s.sessions).toBe(6);
    expect(s.rooms).toBe(1);
    expect(s.cpuCores).toBeGreaterThan(0);
    expect(s.bytesOutPerPlayerSecond).toBeGreaterThan(0);
    // The script's inputs arrive: 60 a second, a few to a packet.
    expect(s.packetsInPerPlayerSecond).toBeGreaterThan(10);
    expect(s.tickMs.samples).toBeGreaterThan(0);
    expect(s.tickMs.p99!).toBeGreaterThanOrEqual(s.tickMs.p50!);
    const text = formatLoadtest(r);
    expect(text).toMatch(/6\/6 bots joined 'arena' over udp, script .*loadtest-bot\.ts, 1 server process\(es\), 2 worker\(s\)/);
    expect(text).toMatch(/CPU µs\/player·s/);
    expect(text).toContain('failures: none');
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
    await expect(
      runLoadtest({ urls: [url], bots: 1, room: 'arena', seconds: 1, transport: 'udp', token: 'nope-nope-nope-nope' }),
    ).rejects.toThrow(/refused the load token/);
    await server.close();
    server = new Server({ port: 0, udpPort: 0 });
    await server.listen();
    expect((await fetch(`${server.address().url}/volley/load`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect(() => new Server({ loadToken: 'short' })).toThrow(/at least 16 characters/);
  }, 30_000);

  it('reports joins that fail, by reason, and says so in its exit code', async () => {
    server = await startShooter(0, pathToFileURL(`${dir}/`), { udpPort: 0 });
    const r = await runLoadtest({ urls: [server.address().url], bots: 2, room: 'no-such-room', seconds: 0.2, transport: 'udp' });
    expect(r.joined).toBe(0);
    expect(r.failures).toEqual({ "unknown-room-type (no room type 'no-such-room' is defined)": 2 });
    expect(r.processes[0]!.failures).toEqual(r.failures);
    expect(r.processes[0]!.server).toBeUndefined();
    expect(formatLoadtest(r)).toContain("server figures: none (pass --token with the servers' loadToken)");
    const code = await main(['loadtest', server.address().url, '--bots', '1', '--room', 'no-such-room', '--seconds', '0.2', '--json']);
    expect(code).toBe(1);
    expect(await main(['loadtest', 'not-a-url'])).toBe(2);
    expect(await main(['loadtest', server.address().url, '--transport', 'webrtc'])).toBe(2);
    expect(await main(['loadtest', server.address().url, '--options', '[1]'])).toBe(2);
    expect(await main(['loadtest', server.address().url, 'ftp://x'])).toBe(2);
    // A script that throws fails its bot (and only it), with the script's words; one whose promise nobody
    // awaits rejects stops the run with them.
    const scripts = mkdtempSync(join(tmpdir(), 'volley-scripts-'));
    /** 4 bots in 2 workers (unless said otherwise) running the script `source`. */
    const withScript = (name: string, source: string, o: Partial<Parameters<typeof runLoadtest>[0]> = {}) => {
      const script = join(scripts, name);
      writeFileSync(script, `${source}\n`);
      return runLoadtest({
        urls: [server!.address().url],
        bots: 4,
        room: 'arena',
        seconds: 0.5,
        transport: 'udp',
        workers: 2,
        script,
        ...o,
      });
    };
    try {
      const r2 = await withScript(
        'half.mjs',
        "export default (bot) => { if (bot.index % 2) throw new Error('odd bot ' + bot.index); bot.every(50, async () => { throw new Error('ignored'); }); };",
      );
      expect(r2).toMatchObject({ joined: 2, lost: 0, failures: { 'the script failed: odd bot N': 2 } });
      expect(r2.processes[0]!.bots).toBe(2);
      await expect(
        withScript('stray.mjs', "export default () => { setTimeout(() => Promise.reject(new Error('stray')), 10); };", {
          bots: 2,
          seconds: 5,
          workers: 1,
        }),
      ).rejects.toThrow(/a worker failed: stray/);
      await expect.poll(() => server!.sessionCount, { timeout: 5000 }).toBe(0);
      // A worker that dies: its bots are counted, as lost (or failed), not left out (its sessions on the server
      // end by their timeout: nothing below counts them).
      const r3 = await withScript('dies.mjs', 'export default (bot) => { if (bot.index === 1) setTimeout(() => process.exit(7), 200); };', {
        seconds: 1,
      });
      expect(r3.failures['worker exited (code 7)']).toBe(2);
      // Every bot either joined or failed to; the lost ones are among those that joined.
      expect(r3.joined + Object.values(r3.failures).reduce((a, b) => a + b, 0) - r3.lost).toBe(4);
      expect(r3.processes[0]!.bots).toBe(2);
    } finally {
      rmSync(scripts, { recursive: true, force: true });
    }
    // A script that is no module fails before any bot.
    await expect(
      runLoadtest({ urls: [server.address().url], bots: 1, room: 'arena', seconds: 0.2, transport: 'udp', script: 'nosuch' }),
    ).rejects.toThrow(/--script nosuch: not one of idle, move, shoot, and cannot load it as a module/);
  }, 30_000);
});
