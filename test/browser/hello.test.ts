/**
 * "Your first multiplayer app" (examples/hello, pasted into the README) works as shown: its client.ts and
 * index.html built for the browser by Vite, its server.ts's start() serving them and running the chat room,
 * two Chromium pages in one room over each transport (forced), seeing each other's lines in the room's
 * state, one reloaded and back in its seat with its state.
 */

import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
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
    ({ browser } = await launchChromium());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    page?.remove();
  }, 30_000);

  // A server per test: seats held for reconnection by one test's pages must not be in the next one's room.
  beforeEach(async () => {
    server = await start(0, pathToFileURL(`${page!.dir}/`));
    const s = server;
    failsafe = setTimeout(() => void s.close(), 5 * 60_000).unref(); // stops by itself even if afterEach never runs
  });

  afterEach(async () => {
    clearTimeout(failsafe);
    await server?.close();
  }, 30_000);

  async function open(transport: string): Promise<{ p: Page; log: string[] }> {
    const context = await browser!.newContext();
    const p = await context.newPage();
    const log = pageLog(p);
    await p.goto(`${server!.address().url}/?transport=${transport}`, { timeout: 10_000 });
    return { p, log };
  }

  const statusOf = (p: Page) => p.locator('#status').textContent({ timeout: 1000 });
  const meOf = (p: Page) => p.locator('#me').textContent({ timeout: 1000 });
  const linesOf = (p: Page) => p.locator('#log li').allTextContents();
  const say = async (p: Page, text: string) => {
    await p.locator('input').fill(text);
    await p.locator('input').press('Enter');
  };

  it.each(['webrtc', 'websocket', 'polling'])(
    "over %s: two pages in one room see each other's lines in the state, and a reload takes the seat back",
    async (transport) => {
      const a = await open(transport);
      const b = await open(transport);
      try {
        for (const { p } of [a, b]) {
          await expect.poll(() => statusOf(p), { timeout: 10_000, interval: 50 }).toMatch(new RegExp(`^${transport}, RTT \\d+\\.\\d ms$`));
          await expect.poll(() => meOf(p), { timeout: 10_000, interval: 50 }).toMatch(/^you are guest-\S{4}, 0 said, 2 here$/);
        }
        const nameA = /you are (\S+),/.exec((await meOf(a.p)) ?? '')![1]!;
        const nameB = /you are (\S+),/.exec((await meOf(b.p)) ?? '')![1]!;
        await say(a.p, 'hello from A');
        for (const { p } of [a, b])
          await expect.poll(() => linesOf(p), { timeout: 5000, interval: 10 }).toEqual([`${nameA}: hello from A`]);
        expect(await a.p.locator('input').inputValue()).toBe(''); // the form was cleared
        await say(b.p, 'hi A, B here');
        const both = [`${nameA}: hello from A`, `${nameB}: hi A, B here`];
        for (const [who, { p }] of [
          ['A', a],
          ['B', b],
        ] as const) {
          await expect.poll(() => linesOf(p), { timeout: 5000, interval: 10, message: `page ${who}'s lines` }).toEqual(both);
        }

        // A reload: a new session, the same seat (sessionStorage kept its token), its state as it was.
        await a.p.reload({ timeout: 10_000 });
        await expect.poll(() => meOf(a.p), { timeout: 15_000, interval: 50 }).toBe(`you are ${nameA}, 1 said, 2 here`);
        await expect.poll(() => linesOf(a.p), { timeout: 5000, interval: 10 }).toEqual(both);
        await say(a.p, 'back');
        for (const { p } of [a, b])
          await expect.poll(() => linesOf(p), { timeout: 5000, interval: 10 }).toEqual([...both, `${nameA}: back`]);
        await expect.poll(() => meOf(b.p), { timeout: 5000, interval: 50 }).toBe(`you are ${nameB}, 1 said, 2 here`);
        console.log(`examples/hello over ${transport}: ${await statusOf(a.p)} | ${await statusOf(b.p)}`);
      } catch (e) {
        const seen = async (p: Page) => `${await meOf(p).catch(() => '?')} | ${(await linesOf(p).catch(() => [])).join(' / ')}`;
        throw new Error(
          `${(e as Error).message}\n--- A shows: ${await seen(a.p)}\n--- B shows: ${await seen(b.p)}\n--- page A ---\n${a.log.join('\n') || '(empty)'}\n--- page B ---\n${b.log.join('\n') || '(empty)'}`,
          { cause: e },
        );
      } finally {
        await a.p.context().close();
        await b.p.context().close();
      }
    },
    60_000,
  );
});
