/**
 * The session-lifecycle matrix: for one transport, every way a session can end — the client process killed,
 * the server process killed, the network cut for longer than the timeout, a kick, a rate-limit cut, a server
 * shutdown — and each side must report that end exactly once, with the right reason, within timeout + 1 s.
 * Plus: slots of dead sessions are freed (maxSessions), and a message sent from onConnect reaches a client
 * that sets its handler right after `await connect()`.
 *
 * One file per transport (udp.test.ts, …) calls lifecycleMatrix(kind). The tests of a file run concurrently
 * (each has its own servers, clients and ports; they mostly wait on timers), so the whole matrix takes
 * seconds per transport. Failures use expect.soft, so one run shows every broken expectation of a test, each
 * with the test's timeline (what each side reported, and when).
 */

import { describe, it, type ExpectStatic } from 'vitest';
import { connect, type Client, type TransportKind } from '@volley/client';
import { DisconnectReason, reasonName } from '@volley/protocol';
import type { Server, Session } from '@volley/server';
import { NetCut, requireIsolation } from '../support/netfilter.js';
import { clientOptions, DEADLINE, GRACE, Rig, TIMEOUT } from '../support/rig.js';
import { Timeline, type Side } from '../support/timeline.js';
import { sleep, sleepUntil, waitFor, waitUntil } from '../support/wait.js';

/** How long the network stays cut: longer than the timeout. */
const CUT_MS = TIMEOUT + 1500;
/** After the network is back: how long the client must stay disconnected, with no second event. */
const AFTER_RESTORE_MS = 1000;
/** Waiting for a session to show up on the server after the client connected. */
const SESSION_MS = 5000;

interface Case {
  rig: Rig;
  tl: Timeline;
  expect: ExpectStatic;
}

interface ExpectedEnd {
  reason: number;
  text?: string;
}

/**
 * Soft-asserts that `side` reported exactly one end, with `expected` reason (and text), no later than
 * DEADLINE after `anchor` (a performance.now() value, described as `since`).
 */
function expectOneEnd(c: Case, side: Side, expected: ExpectedEnd, anchor: number, since: string): void {
  const got = c.tl.endsOf(side);
  const withText = expected.text !== undefined;
  const actual = {
    count: got.length,
    reasons: got.map((e) => reasonName(e.reason)),
    ...(withText ? { texts: got.map((e) => e.text) } : {}),
    late: got.filter((e) => e.at - anchor > DEADLINE).map((e) => `${Math.round(e.at - anchor)} ms after ${since}`),
  };
  const wanted = {
    count: 1,
    reasons: [reasonName(expected.reason)],
    ...(withText ? { texts: [expected.text] } : {}),
    late: [],
  };
  const event = side === 'server' ? 'server.onDisconnect' : "client 'disconnect'";
  const message =
    `${c.tl.title}: ${event} must run exactly once, reason ${reasonName(expected.reason)}` +
    `${withText ? ` text ${JSON.stringify(expected.text)}` : ''}, within ${DEADLINE} ms of ${since}` +
    `${got.length === 0 ? ` — it never ran (waited ${DEADLINE} + ${GRACE} ms)` : ''}. Timeline:\n${c.tl.describe()}\n`;
  c.expect.soft(actual, message).toEqual(wanted);
}

function expectNoSessions(c: Case, server: Server, when: string): void {
  c.expect.soft(server.clients.length, `${c.tl.title}: server.clients.length ${when}. Timeline:\n${c.tl.describe()}\n`).toBe(0);
}

function expectClientState(c: Case, client: Client, state: string, when: string): void {
  c.expect.soft(client.state, `${c.tl.title}: client.state ${when}. Timeline:\n${c.tl.describe()}\n`).toBe(state);
}

/** Waits until every side in `sides` reported at least one end, or the deadline; then GRACE more. */
async function settle(c: Case, sides: Side[], anchor: number): Promise<void> {
  await waitUntil(() => sides.every((s) => c.tl.endsOf(s).length > 0), anchor + DEADLINE);
  await sleep(GRACE);
}

/** Waits for `count` connected sessions on the server and returns them. */
async function sessionsOn(server: Server, count = 1): Promise<Session[]> {
  await waitFor(`${count} session(s) on the server`, () => server.clients.length >= count, SESSION_MS);
  return server.clients;
}

/** Notes the final states in the timeline (before the assertions, so every failure message shows them). */
function noteFinal(c: Case, what: { server?: Server; sessions?: Session[]; client?: Client }): void {
  const parts: string[] = [];
  for (const s of what.sessions ?? []) parts.push(`session ${s.id} state '${s.state}'`);
  if (what.server) parts.push(`server.clients.length ${what.server.clients.length}`);
  if (what.client) parts.push(`client.state '${what.client.state}'`);
  c.tl.note(`final: ${parts.join(', ')}`);
}

export interface MatrixOptions {
  /**
   * Run the tests one after another instead of concurrently: for a transport whose teardown can block this
   * process's event loop for a while (which would make another test's deadline measure our stall).
   */
  sequential?: boolean;
}

export function lifecycleMatrix(kind: TransportKind, options: MatrixOptions = {}): void {
  /** A test with its own timeline and rig, released when it ends (pass or fail). */
  const test = (name: string, body: (c: Case) => Promise<void>, needsIsolation = false): void => {
    it(name, async ({ expect, onTestFinished }) => {
      if (needsIsolation) requireIsolation();
      const tl = new Timeline(`[${kind}] ${name}`);
      const rig = new Rig(kind, tl);
      onTestFinished(() => rig.dispose());
      await body({ rig, tl, expect });
    });
  };

  const suite = options.sequential ? describe.sequential : describe.concurrent;
  suite(`session lifecycle over ${kind}`, () => {
    test('client process killed: the server reports Timeout once and frees the session', async (c) => {
      const { server, url } = await c.rig.server();
      const child = await c.rig.childClient(url, 'client');
      const sessions = await sessionsOn(server);
      const killed = child.kill();
      c.tl.mark(`SIGKILL client (pid ${child.pid})`);
      await settle(c, ['server'], killed);
      noteFinal(c, { server, sessions });
      expectOneEnd(c, 'server', { reason: DisconnectReason.Timeout }, killed, 'the kill');
      expectNoSessions(c, server, 'after the timeout');
    });

    const lostReason = kind === 'websocket' || kind === 'polling' ? DisconnectReason.TransportLost : DisconnectReason.Timeout;
    test(`server process killed: the client reports ${reasonName(lostReason)} once and ends`, async (c) => {
      const { child, url } = await c.rig.childServer('server');
      const { client } = await c.rig.client(url, 'client');
      await child.line('session', SESSION_MS);
      const killed = child.kill();
      c.tl.mark(`SIGKILL server (pid ${child.pid})`);
      await settle(c, ['client'], killed);
      noteFinal(c, { client });
      expectOneEnd(c, 'client', { reason: lostReason }, killed, 'the kill');
      expectClientState(c, client, 'disconnected', 'after the server died');
    });

    test(
      'network cut longer than the timeout: both sides report Timeout once, the client stays disconnected',
      async (c) => {
        const { server, url, ports } = await c.rig.server();
        const { client } = await c.rig.client(url, 'client');
        const sessions = await sessionsOn(server);
        const udp = [ports.udp, ports.media].filter((p): p is number => p !== undefined);
        const cut = c.rig.track(await NetCut.drop({ tcp: [ports.http], udp }));
        const cutAt = c.tl.mark(`network cut (nft table ${cut.table}: tcp ${ports.http}, udp ${udp.join(', ') || '-'})`);
        let dropped: number;
        try {
          await waitUntil(() => c.tl.endsOf('server').length > 0 && c.tl.endsOf('client').length > 0, cutAt + DEADLINE);
          await sleepUntil(cutAt + CUT_MS);
          c.tl.mark('restoring the network');
          dropped = await cut.dropped();
        } finally {
          await cut.remove();
        }
        const restored = c.tl.mark(`network restored (${dropped} packets were dropped)`);
        const stateAtRestore = client.state;
        await sleepUntil(restored + AFTER_RESTORE_MS);
        c.tl.mark(`${AFTER_RESTORE_MS} ms after the restore`);
        noteFinal(c, { server, sessions, client });
        c.expect(dropped, `${c.tl.title}: the cut dropped nothing: the test did not cut anything`).toBeGreaterThan(0);
        expectClientState(
          c,
          client,
          'disconnected',
          `${AFTER_RESTORE_MS} ms after the network came back (it was '${stateAtRestore}' at the restore)`,
        );
        expectOneEnd(c, 'client', { reason: DisconnectReason.Timeout }, cutAt, 'the cut');
        expectOneEnd(c, 'server', { reason: DisconnectReason.Timeout }, cutAt, 'the cut');
        expectNoSessions(c, server, 'after the cut');
      },
      true,
    );

    test("kick: session.close(Kicked, 'bye') is reported once on each side", async (c) => {
      const { server, url } = await c.rig.server();
      const { client } = await c.rig.client(url, 'client');
      const sessions = await sessionsOn(server);
      const kicked = c.tl.mark("session.close(Kicked, 'bye')");
      sessions[0]!.close(DisconnectReason.Kicked, 'bye');
      await settle(c, ['server', 'client'], kicked);
      noteFinal(c, { server, sessions, client });
      expectOneEnd(c, 'client', { reason: DisconnectReason.Kicked, text: 'bye' }, kicked, 'the kick');
      expectOneEnd(c, 'server', { reason: DisconnectReason.Kicked }, kicked, 'the kick');
      expectClientState(c, client, 'disconnected', 'after the kick');
      expectNoSessions(c, server, 'after the kick');
    });

    test('rate-limit cut: 500 messages against 50/s is reported as RateLimited once on each side', async (c) => {
      const { server, url } = await c.rig.server({ limits: { messagesPerSecond: 50 } });
      server.onMessage('spam', () => {});
      const { client } = await c.rig.client(url, 'client');
      const sessions = await sessionsOn(server);
      const flood = c.tl.mark('client sends 500 messages');
      for (let i = 0; i < 500; i++) client.send('spam', i);
      await settle(c, ['server', 'client'], flood);
      noteFinal(c, { server, sessions, client });
      expectOneEnd(c, 'client', { reason: DisconnectReason.RateLimited }, flood, 'the flood');
      expectOneEnd(c, 'server', { reason: DisconnectReason.RateLimited }, flood, 'the flood');
      expectClientState(c, client, 'disconnected', 'after the rate-limit cut');
      expectNoSessions(c, server, 'after the rate-limit cut');
    });

    test('server shutdown: server.close() is reported as ShuttingDown once on each side', async (c) => {
      const { server, url } = await c.rig.server();
      const { client } = await c.rig.client(url, 'client');
      const sessions = await sessionsOn(server);
      const closing = c.tl.mark('server.close()');
      await server.close();
      c.tl.mark('server.close() resolved');
      await settle(c, ['server', 'client'], closing);
      noteFinal(c, { server, sessions, client });
      expectOneEnd(c, 'client', { reason: DisconnectReason.ShuttingDown }, closing, 'server.close()');
      expectOneEnd(c, 'server', { reason: DisconnectReason.ShuttingDown }, closing, 'server.close()');
      expectClientState(c, client, 'disconnected', 'after the shutdown');
      expectNoSessions(c, server, 'after the shutdown');
    });

    test('slots: two killed clients free their maxSessions slots within timeout + 1 s', async (c) => {
      const { server, url } = await c.rig.server({ limits: { maxSessions: 2 } });
      const a = await c.rig.childClient(url, 'client A');
      const b = await c.rig.childClient(url, 'client B');
      const sessions = await sessionsOn(server, 2);
      const killed = a.kill();
      b.kill();
      c.tl.mark(`SIGKILL clients A and B (pids ${a.pid}, ${b.pid})`);
      // Connect as soon as both sessions are reported ended, and at the deadline at the latest.
      await waitUntil(() => c.tl.endsOf('server').length >= 2, killed + DEADLINE);
      noteFinal(c, { server, sessions });
      c.tl.mark('connecting two new clients');
      const outcomes = await Promise.all(
        ['new client C', 'new client D'].map((label) =>
          c.rig.client(url, label).then(
            ({ client }) => `connected (${client.state})`,
            (e: unknown) => `failed: ${e instanceof Error ? e.message : String(e)}`,
          ),
        ),
      );
      c.expect
        .soft(
          outcomes,
          `${c.tl.title}: two new clients must connect once the killed ones timed out (maxSessions 2). Timeline:\n${c.tl.describe()}\n`,
        )
        .toEqual(['connected (connected)', 'connected (connected)']);
    });

    test("welcome: a message sent from onConnect reaches each of 10 clients that set its handler right after 'await connect()'", async (c) => {
      const { server, url } = await c.rig.server();
      server.onConnect((s) => s.send('welcome', { id: s.id }));
      const welcomes = new Map<string, unknown>();
      const failed: string[] = [];
      const connectOne = async (label: string): Promise<void> => {
        let client: Client;
        try {
          client = await connect(url, clientOptions(kind));
        } catch (e) {
          failed.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        client.onMessage('welcome', (data) => welcomes.set(label, data));
        c.rig.adopt(client, label);
      };
      const labels = Array.from({ length: 10 }, (_, i) => `client#${i + 1}`);
      await Promise.all(labels.map(connectOne));
      c.expect(failed, `${c.tl.title}: all 10 clients must connect`).toEqual([]);
      const connected = c.tl.mark('all 10 connected');
      await waitUntil(() => welcomes.size === labels.length, connected + DEADLINE);
      c.tl.note(`welcomed: ${[...welcomes.keys()].join(', ') || 'none'}`);
      const missing = labels.filter((l) => !welcomes.has(l));
      c.expect
        .soft(
          missing,
          `${c.tl.title}: every client must get its welcome within ${DEADLINE} ms (${welcomes.size}/${labels.length} did). Timeline:\n${c.tl.describe()}\n`,
        )
        .toEqual([]);
      const ids = [...welcomes.values()].map((d) => (d as { id?: unknown }).id);
      const sessionIds = new Set(server.clients.map((s) => s.id));
      c.expect.soft(new Set(ids).size, `${c.tl.title}: each welcome names its own session`).toBe(ids.length);
      c.expect
        .soft(
          ids.filter((id) => typeof id !== 'number' || !sessionIds.has(id)),
          `${c.tl.title}: welcome ids must be live sessions`,
        )
        .toEqual([]);
    });
  });
}
