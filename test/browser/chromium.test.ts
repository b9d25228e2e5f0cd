/**
 * Real-browser end to end: the client bundled for the browser from source (Vite), in headless Chromium,
 * against a Volley echo server on 127.0.0.1 that also serves the page (same origin). Each transport forced
 * in turn, the automatic chain (start on the first to answer, move to WebRTC) and the sequential one. Skips only when Chromium is absent and
 * cannot be installed (see chromium.ts); CI installs it.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, staticFiles } from '@volley/server';
import { buildPage, type BuiltPage } from './build.js';
import { CHROMIUM, ensureChromium, launchChromium, pageLog } from './chromium.js';
import type { RunOptions, RunResult } from './page/main.js';

const chromiumProblem = ensureChromium();

const COUNT = 100;

describe(`Chromium (${CHROMIUM})`, () => {
  // No Chromium is a failure, never a skip: these tests are how we know the browser side works.
  if (chromiumProblem)
    it('has Chromium', () => {
      throw new Error(`Chromium is required: ${chromiumProblem}`);
    });
  let page: BuiltPage | undefined;
  let server: Server | undefined;
  let browser: Browser | undefined;
  let commandLine: string[] = [];
  let failsafe: ReturnType<typeof setTimeout> | undefined;
  const serverSaw: string[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    page = await buildPage(fileURLToPath(new URL('./page', import.meta.url)));
    server = new Server({ host: '127.0.0.1', port: 0, udpPort: 0 });
    server.onConnect((session) => void serverSaw.push(String(session.transport)));
    server.onAnyMessage((session, type, data, { channel }) => session.send(type, data, { channel }));
    server.http.fallback = staticFiles(page.dir);
    await server.listen();
    const s = server;
    failsafe = setTimeout(() => void s.close(), 5 * 60_000).unref(); // stops by itself even if afterAll never runs
    ({ browser, commandLine } = await launchChromium());
  }, 120_000);

  afterAll(async () => {
    clearTimeout(failsafe);
    await browser?.close();
    await server?.close();
    page?.remove();
    if (figures.length) console.log(`Chromium figures (page clock, loopback, ${COUNT} messages of ~40 bytes):\n${figures.join('\n')}`);
  }, 30_000);

  /** Opens a fresh page on the server's URL and runs window.volleyTest.run(options) in it. */
  async function runInPage(options: RunOptions): Promise<RunResult> {
    const context = await browser!.newContext();
    const p = await context.newPage();
    const log = pageLog(p);
    try {
      await p.goto(server!.address().url, { timeout: 10_000 });
      await p.waitForFunction(() => window.volleyTest !== undefined, undefined, { timeout: 10_000 });
      return await p.evaluate((o) => window.volleyTest.run(o), options);
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- page log ---\n${log.join('\n') || '(empty)'}`, { cause: e });
    } finally {
      await context.close();
    }
  }

  function record(name: string, r: RunResult): void {
    figures.push(
      `  ${name.padEnd(10)} ${r.transport}${r.finalTransport !== r.transport ? `→${r.finalTransport}` : ''}: connect ${r.connectMs.toFixed(0)} ms, ` +
        `echo median ${r.echoMs.median.toFixed(2)} / p99 ${r.echoMs.p99.toFixed(2)} / max ${r.echoMs.max.toFixed(2)} ms, ` +
        `${r.slowEchoes} over 10 ms, burst ${r.burst.echoed}/${r.burst.sent} in ${r.burst.ms.toFixed(1)} ms, ` +
        `rtt ${r.rtt.toFixed(2)} ms (${r.ping.count} ping(s), min ${r.ping.min.toFixed(2)} max ${r.ping.max.toFixed(2)})` +
        (r.stream
          ? `, upgrade after ${r.stream.upgradeMs.toFixed(0)} ms, stream ${r.stream.echoed}/${r.stream.sent} (${r.stream.echoedAfterMove} after the move)`
          : ''),
    );
  }

  function expectHealthy(r: RunResult): void {
    expect(r.echoed).toBe(COUNT);
    expect(r.burst).toMatchObject({ sent: COUNT, echoed: COUNT, inOrder: true });
    expect(r.ping.count).toBeGreaterThanOrEqual(1); // measured by a ping, not the client's initial guess
    expect(r.rtt).toBeGreaterThan(0);
    expect(r.connectMs).toBeLessThan(5000);
  }

  it('bundles the client for the browser with no Node-only module', () => {
    const mods = page!.modules.map((m) => m.replaceAll('\\', '/'));
    for (const f of [
      'client/src/index.ts',
      'client/src/transports/webrtc.ts',
      'client/src/transports/webrtc-signaling.ts',
      'client/src/transports/websocket.ts',
      'client/src/transports/polling.ts',
      'protocol/src/connection.ts',
    ]) {
      expect(
        mods.some((m) => m.endsWith(`packages/${f}`)),
        `${f} in the bundle`,
      ).toBe(true);
    }
    // Our own WebRTC signaling (docs/transports.md): no geckos.io client code in the page.
    expect(mods.some((m) => m.includes('/node_modules/@geckos.io/'))).toBe(false);
  });

  it('fails the build loudly when a Node-only module creeps into the bundle', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'volley-bad-page-'));
    try {
      const nodeEntry = fileURLToPath(new URL('../../packages/client/src/node.ts', import.meta.url));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="./main.ts"></script>\n');
      writeFileSync(join(dir, 'main.ts'), `import { connect } from ${JSON.stringify(nodeEntry)};\nconsole.log(connect);\n`);
      await expect(buildPage(dir, { quiet: true })).rejects.toThrow(/Node-only (import|module) in the browser bundle/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it('runs Chromium with the loopback WebRTC flags and one merged --disable-features', () => {
    if (commandLine.length === 0) return; // Browser.getBrowserCommandLine unavailable: nothing to check
    expect(commandLine).toContain('--allow-loopback-in-peer-connection');
    const disabled = commandLine.filter((a) => a.startsWith('--disable-features='));
    expect(disabled).toHaveLength(1);
    const features = disabled[0]!.split('=')[1]!.split(',');
    expect(features).toContain('WebRtcHideLocalIpsWithMdns');
    expect(features.length).toBeGreaterThan(1); // Playwright's own list kept
  });

  it.each(['webrtc', 'websocket', 'polling'] as const)(
    'connects over %s (forced), echoes both ways and measures the RTT',
    async (kind) => {
      const before = serverSaw.length;
      const r = await runInPage({ transports: [kind], count: COUNT });
      record(kind, r);
      expect(r.transport).toBe(kind);
      expect(r.finalTransport).toBe(kind);
      expect(r.failures).toEqual([]);
      expect(r.moves).toEqual([]);
      expect(serverSaw.slice(before)).toEqual([kind]);
      expectHealthy(r);
    },
    40_000,
  );

  it('the automatic chain: connected on the first transport to answer, moved to WebRTC, no message lost or reordered', async () => {
    const r = await runInPage({ stream: true, count: COUNT });
    record('auto', r);
    expect(r.finalTransport).toBe('webrtc');
    // WebSocket answers first on loopback; should WebRTC ever win the race, there is simply no move.
    if (r.transport !== 'webrtc') {
      expect(r.moves).toHaveLength(1);
      expect(r.moves[0]).toMatchObject({ kind: 'webrtc', previous: r.transport });
    }
    expect(r.failures).toEqual([]);
    const s = r.stream!;
    expect(s.echoed).toBe(s.sent);
    expect(s.inOrder).toBe(true);
    expect(s.echoedAfterMove).toBeGreaterThanOrEqual(50);
    expectHealthy(r);
  }, 40_000);

  it('one after another (upgrade: false): waits for WebRTC, the best, and never moves', async () => {
    const r = await runInPage({ upgrade: false, count: COUNT });
    record('sequential', r);
    expect(r.transport).toBe('webrtc');
    expect(r.moves).toEqual([]);
    expect(r.failures).toEqual([]);
    expectHealthy(r);
  }, 40_000);
});
