/**
 * "Your first multiplayer app" (examples/hello, pasted into the README) works as shown: its client.ts and
 * index.html built for the browser by Vite, its server.ts's start() serving them and relaying chat, two
 * Chromium pages chatting through it with the RTT on screen.
 */

import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Server } from '@volley/server';
import { start } from '../../examples/hello/server.js';
// Type-checks the example's browser code with the tests (tsconfig.test.json); nothing is imported at run time.
import type {} from '../../examples/hello/client.js';
import { buildPage, type BuiltPage } from './build.js';
import { CHROMIUM, ensureChromium, launchChromium, pageLog } from './chromium.js';

const chromiumProblem = ensureChromium();

describe(`examples/hello in Chromium (${CHROMIUM})`, () => {
  // No Chromium is a failure, never a skip: these tests are how we know the browser side works.
  if (chromiumProblem)
    it('has Chromium', () => {
      throw new Error(`Chromium is required: ${chromiumProblem}`);
    });
  let page: BuiltPage | undefined;
  let server: Server | undefined;
  let browser: Browser | undefined;
  let failsafe: ReturnType<typeof setTimeout> | undefined;

  beforeAll(async () => {
    page = await buildPage(fileURLToPath(new URL('../../examples/hello', import.meta.url)));
    server = await start(0, pathToFileURL(`${page.dir}/`));
    const s = server;
    failsafe = setTimeout(() => void s.close(), 5 * 60_000).unref(); // stops by itself even if afterAll never runs
    ({ browser } = await launchChromium());
  }, 120_000);

  afterAll(async () => {
    clearTimeout(failsafe);
    await browser?.close();
    await server?.close();
    page?.remove();
  }, 30_000);

  async function open(): Promise<{ p: Page; log: string[] }> {
    const context = await browser!.newContext();
    const p = await context.newPage();
    const log = pageLog(p);
    await p.goto(server!.address().url, { timeout: 10_000 });
    return { p, log };
  }

  const statusOf = (p: Page) => p.locator('#status').textContent({ timeout: 1000 });
  const linesOf = (p: Page) => p.locator('#log li').allTextContents();

  it('two pages connect over WebRTC, chat through the server, and show a measured RTT', async () => {
    const a = await open();
    const b = await open();
    try {
      // Connected: the status line names the transport (the automatic chain picks WebRTC in Chromium).
      for (const { p } of [a, b])
        await expect.poll(() => statusOf(p), { timeout: 10_000, interval: 50 }).toMatch(/^webrtc, RTT \d+\.\d ms$/);

      const sentAt = performance.now();
      await a.p.locator('input').fill('hello from A');
      await a.p.locator('input').press('Enter');
      await expect.poll(() => linesOf(a.p), { timeout: 5000, interval: 10 }).toEqual(['hello from A']);
      const roundTripMs = performance.now() - sentAt;
      await expect.poll(() => linesOf(b.p), { timeout: 5000, interval: 10 }).toEqual(['hello from A']);
      expect(await a.p.locator('input').inputValue()).toBe(''); // the form was cleared

      await b.p.locator('input').fill('hi A, B here');
      await b.p.locator('button').click();
      for (const { p } of [a, b])
        await expect.poll(() => linesOf(p), { timeout: 5000, interval: 10 }).toEqual(['hello from A', 'hi A, B here']);

      // A measured RTT: positive, and not the 100.0 ms the client assumes until its first ping is answered.
      for (const { p } of [a, b]) {
        await expect
          .poll(async () => Number(/RTT (\d+\.\d) ms/.exec((await statusOf(p)) ?? '')?.[1]), { timeout: 5000, interval: 100 })
          .toSatisfy((rtt: number) => rtt > 0 && rtt !== 100);
      }
      console.log(
        `examples/hello: round trip to the DOM (Playwright-driven) ${roundTripMs.toFixed(0)} ms; status: ${await statusOf(a.p)} | ${await statusOf(b.p)}`,
      );
    } catch (e) {
      throw new Error(
        `${(e as Error).message}\n--- page A ---\n${a.log.join('\n') || '(empty)'}\n--- page B ---\n${b.log.join('\n') || '(empty)'}`,
        { cause: e },
      );
    } finally {
      await a.p.context().close();
      await b.p.context().close();
    }
  }, 40_000);
});
