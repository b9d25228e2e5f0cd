/**
 * The sample shooter (examples/shooter) in Chromium, as a player sees it: the page built by Vite, served by
 * the shooter's own server; it connects over the forced transport, shows three players (two bots and you),
 * moves your player the moment a key is down (prediction), and every shot it fires is judged by the server
 * and comes back as an event; the net graph (@volley/devtools) shows the real transport and its figures at
 * levels 2 and 3, and its report holds the last seconds. Screenshots are saved in test/.screenshots/.
 */

import { mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startShooter } from '../../examples/shooter/server/main.js';
// Type-checks the page's code with the tests; nothing is imported at run time.
import type {} from '../../examples/shooter/client/main.js';
import { buildPage, type BuiltPage } from './build.js';
import { CHROMIUM, ensureChromium, launchChromium, pageLog } from './chromium.js';

const chromiumProblem = ensureChromium();
const SHOTS_DIR = fileURLToPath(new URL('../.screenshots/', import.meta.url));

interface Seen {
  transport: string;
  players: string[];
  me: { x: number; y: number } | null;
  fired: number;
  judged: number;
}

describe(`examples/shooter in Chromium (${CHROMIUM})`, () => {
  if (chromiumProblem)
    it('has Chromium', () => {
      throw new Error(`Chromium is required: ${chromiumProblem}`);
    });
  let page: BuiltPage | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    page = await buildPage(fileURLToPath(new URL('../../examples/shooter/client', import.meta.url)));
    ({ browser } = await launchChromium());
    mkdirSync(SHOTS_DIR, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    page?.remove();
  }, 30_000);

  it.each(['webrtc', 'websocket', 'polling'])(
    'over %s: three players, your moves shown at once, your shots judged by the server',
    async (transport) => {
      const server = await startShooter(0, pathToFileURL(`${page!.dir}/`));
      const failsafe = setTimeout(() => void server.close(), 5 * 60_000).unref();
      const context = await browser!.newContext({ viewport: { width: 1340, height: 580 } });
      const p = await context.newPage();
      const log = pageLog(p);
      const seen = () =>
        p.evaluate((): Seen | null => {
          const s = (globalThis as { shooter?: any }).shooter; // eslint-disable-line @typescript-eslint/no-explicit-any
          if (!s) return null;
          return {
            transport: s.client.transport,
            players: [...s.room.state.players.values()].map((pl: { name: string }) => pl.name).sort(),
            me: s.game.me() ?? null,
            fired: s.game.fired.length,
            judged: s.game.judged.length,
          };
        });
      try {
        await p.goto(`${server.address().url}/?transport=${transport}`, { timeout: 10_000 });
        await expect.poll(seen, { timeout: 15_000, interval: 50 }).toMatchObject({ transport, players: ['A (bot)', 'B (bot)', 'C'] });
        // Prediction: a key down moves your player in the page within a frame or two, not a round trip later.
        const before = (await seen())!.me!;
        await p.keyboard.down('KeyS');
        await expect.poll(async () => (await seen())!.me!.y, { timeout: 2000, interval: 5 }).toBeGreaterThan(before.y);
        await p.waitForTimeout(400);
        await p.keyboard.up('KeyS');
        // Fire three times (the cooldown is 250 ms): each shot is judged and its event comes back.
        const canvas = p.locator('#game > canvas');
        for (let i = 0; i < 3; i++) {
          await canvas.click({ position: { x: 200 + 200 * i, y: 150 } });
          await p.waitForTimeout(300);
        }
        await expect.poll(async () => (await seen())!.judged, { timeout: 5000, interval: 20 }).toBe(3);
        expect((await seen())!.fired).toBe(3);
        await expect.poll(() => p.locator('#feed li').count(), { timeout: 5000 }).toBeGreaterThanOrEqual(3);
        // The net graph (level 1 by default) names the transport the session really runs on.
        const overlay = p.locator('.volley-netgraph pre');
        await expect.poll(() => overlay.textContent(), { timeout: 5000 }).toMatch(new RegExp(`^${transport}  rtt \\d+\\.\\d ms  loss`));
        for (const level of [2, 3] as const) {
          await p.evaluate((l) => ((globalThis as { shooter?: { net: { level: number } } }).shooter!.net.level = l), level);
          await expect
            .poll(() => overlay.textContent(), { timeout: 3000 })
            .toMatch(/rtt last .* p99 [\d.]+[\s\S]*interpolation delay \d+ ms[\s\S]*prediction on/);
          await p.screenshot({ path: `${SHOTS_DIR}shooter-${transport}-netgraph-${level}.png` });
        }
        const report = JSON.parse(
          await p.evaluate(() => (globalThis as { shooter?: { net: { copyReport(): Promise<string> } } }).shooter!.net.copyReport()),
        ) as {
          transport: string;
          rtt: number[];
          packets: { rows: number[][] };
        };
        expect(report.transport).toBe(transport);
        expect(report.rtt.length).toBeGreaterThan(5);
        expect(report.packets.rows.length).toBeGreaterThan(10);
        const file = `${SHOTS_DIR}shooter-${transport}.png`;
        await p.screenshot({ path: file });
        console.log(
          `examples/shooter over ${transport}: ${(await p.locator('#status').textContent())?.replace(/\n/g, ' | ')}; screenshot ${file}`,
        );
      } catch (e) {
        throw new Error(`${(e as Error).message}\n--- page ---\n${log.join('\n') || '(empty)'}`, { cause: e });
      } finally {
        await context.close();
        clearTimeout(failsafe);
        await server.close();
      }
    },
    60_000,
  );
});
