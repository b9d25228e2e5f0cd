/**
 * The A/B/C demo's machinery, from Node over real UDP on loopback: the shooter's server with its demo room,
 * the real client behind the devtools' link conditioner (150 ms each way, as the page sets it), the packet
 * timeline on the client's own trace, and the page's step tracker. A, B and C fire; the packet carrying B's
 * shot is dropped; the seven steps must all happen, for real, and the shots reach the game as A, B, C.
 * (test/browser/shooter.test.ts plays the same demo in Chromium over WebRTC and looks at the page.)
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '@volley/client';
import { LinkConditioner, PacketTimeline } from '@volley/devtools';
import type { Server } from '@volley/server';
import { AbcSteps } from '../../examples/shooter/client/abc-steps.js';
import type { ShotEvent } from '../../examples/shooter/game/messages.js';
import { Arena } from '../../examples/shooter/game/state.js';
import { startShooter } from '../../examples/shooter/server/main.js';
import { waitFor, waitUntil } from '../support/wait.js';

let server: Server | undefined;
let client: Client | undefined;
const dir = mkdtempSync(join(tmpdir(), 'volley-abc-'));
afterEach(async () => {
  await client?.close();
  await server?.close();
  client = server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('the A/B/C demo', () => {
  it('over udp: A, B and C fire, B is lost, C is held, B is resent with the same id, then B and C in order', async () => {
    server = await startShooter(0, pathToFileURL(`${dir}/`), { udpPort: 0, transports: ['udp'] });
    const conditioner = new LinkConditioner({ latency: 150 });
    const names = new Map<string, string>();
    const timeline = new PacketTimeline({
      describe: (type, v) => (type === 'shot' ? `${names.get((v as ShotEvent).shooter)}'s shot` : type),
    });
    timeline.watch(conditioner);
    client = await connect(server.address().url, { transports: ['udp'], wrap: conditioner.wrap, protocol: { trace: timeline.trace } });
    const room = await client.create('abc-demo', {}, Arena);
    const shots: string[] = [];
    room.onMessage('shot', (e) => void shots.push(names.get((e as ShotEvent).shooter) ?? '?'));
    await waitFor('A, B, C and the viewer', () => room.state.players.size === 4, 5000);
    for (const [id, p] of room.state.players) names.set(id, p.name.replace(' (bot)', ''));
    const id = (letter: string) => [...names].find(([, n]) => n === letter)![0];
    // Let both ends measure the slowed link first (the page waits 1.5 s too).
    await new Promise((r) => setTimeout(r, 1500));

    const steps = new AbcSteps({ A: id('A'), B: id('B'), C: id('C') }, () => timeline.held);
    conditioner.observe((e) => steps.link(e));
    timeline.onEntry((e) => steps.entry(e));
    const dropped = conditioner.dropNext('shot', { direction: 'down', where: (v) => (v as ShotEvent).shooter === id('B') });
    room.send('abc');
    await waitUntil(() => steps.done, performance.now() + 10_000);

    const story = timeline
      .entries()
      .filter((e) => steps.relevant(e))
      .map((e) => timeline.describe(e));
    expect([...steps.steps.keys()].sort(), story.join('\n')).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(shots).toEqual(['A', 'B', 'C']);
    const at = (n: 1 | 2 | 3 | 4 | 5 | 6 | 7) => steps.steps.get(n)!.t;
    // What causes what: A is shown and acknowledged; B's loss comes before its resend; C waits, then B, then C.
    expect(at(1)).toBeLessThanOrEqual(at(2));
    expect(at(3)).toBeLessThan(at(6));
    expect(at(4)).toBeLessThan(at(6));
    expect(at(6)).toBeLessThanOrEqual(at(7));
    expect(timeline.held).toBe(0);
    // The dropped packet is the one step 3 names, and the resend came in another one.
    const seq = await dropped;
    expect(steps.steps.get(3)!.text).toContain(`#${seq}`);
    expect(steps.steps.get(6)!.text).not.toMatch(new RegExp(`^Packet #${seq} `));
    // The timeline tells it in words, with the shots labelled by who fired them.
    expect(story.some((l) => l.includes(`packet #${seq} lost on its way here`) && l.includes("B's shot"))).toBe(true);
    expect(story.some((l) => l.includes("C's shot") && l.includes('held back'))).toBe(true);
    expect(story.filter((l) => l.includes('delivered to the game')).map((l) => /^▶ (\w)'s/.exec(l)?.[1])).toEqual(['A', 'B', 'C']);
  }, 30_000);

  it('refuses to play twice at once, and plays again once done', async () => {
    server = await startShooter(0, pathToFileURL(`${dir}/`), { udpPort: 0, transports: ['udp'] });
    client = await connect(server.address().url, { transports: ['udp'] });
    const room = await client.create('abc-demo', {}, Arena);
    const shots: ShotEvent[] = [];
    room.onMessage('shot', (e) => void shots.push(e as ShotEvent));
    await waitFor('A, B, C and the viewer', () => room.state.players.size === 4, 5000);
    room.send('abc');
    room.send('abc'); // ignored: it is playing
    await waitFor('three shots', () => shots.length >= 3, 5000);
    await new Promise((r) => setTimeout(r, 500));
    expect(shots).toHaveLength(3);
    // Once the state runs again (2.4 s after the first shot), it plays again; the bots were healed, so no one dies.
    await new Promise((r) => setTimeout(r, 2500));
    room.send('abc');
    await waitFor('three more shots', () => shots.length >= 6, 5000);
    expect(shots.map((s) => s.shooter)).toEqual(['bot-1', 'bot-2', 'bot-3', 'bot-1', 'bot-2', 'bot-3']);
    // Every shot hits (they stand still, clear of the viewer, and are judged where they are).
    expect(shots.every((s) => s.target !== undefined && s.damage === 25 && !s.kill)).toBe(true);
  }, 20_000);
});
