/**
 * Hostile MessagePack against a real server (127.0.0.1): MessagePack lets a 3-byte header declare 65 535
 * elements, and the decoder used to allocate what was declared before reading it. One 30 KB message of
 * 10 000 `array16(65535)` headers blocked the event loop for 15-25 s, took RSS to 4.3 GB and aborted the
 * process; the same bytes in the (≤ 1 KiB) auth payload cost ~100 ms of CPU each, before authentication,
 * even with no onAuth. Now peer bytes are bounded before they are decoded (msgpack-bounds.ts): the server
 * stays up and small, good clients keep being served, the hostile session's errors are counted and reported
 * once, and a session that keeps sending them is cut.
 */

import { describe, expect, it } from 'vitest';
import { connect } from '@volley/client';
import { DisconnectReason, encodeEnvelope } from '@volley/protocol';
import { Server, type ServerOptions } from '@volley/server';
import { echoed } from '../support/echo.js';
import { SdkRig } from '../support/sdk-rig.js';
import { waitFor } from '../support/wait.js';
import { HostileClient } from './hostile-client.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
const repeat = (h: string, n: number) => hex(h.repeat(n));

/** Bodies that each used to cost the decoder far more than their size. */
const BOMBS: [string, Uint8Array][] = [
  ['30 KB of array16(65535) headers', repeat('dcffff', 10_000)],
  ['array32 declaring 4 294 967 295 elements', hex('ddffffffff')],
  ['map32 declaring 4 294 967 295 entries', hex('dfffffffff')],
  ['str32 declaring 4 GB', hex('dbffffffff61')],
  ['bin32 declaring 4 GB', hex('c6ffffffff00')],
  ['200 000-deep nesting', repeat('91', 200_000)],
];

const rig = new SdkRig({ transports: ['websocket'] });
const serve = (options: ServerOptions = {}): Promise<Server> => rig.serve(options);

describe('hostile MessagePack', () => {
  it('in messages: the server stays up and small, good clients are served, the offender is counted, reported once, then cut', async () => {
    const server = await serve({ limits: { maxMalformedMessages: 16 } });
    const errors: unknown[] = [];
    server.onError((e) => errors.push(e));
    server.onMessage('echo', (s, v) => s.send('echo', v));
    const good = await connect(server.address().url, { transports: ['websocket'] });
    rig.track(good);
    const bad = await HostileClient.connect(server.address().url);
    rig.track(bad);
    expect(bad.isConnected).toBe(true);
    const before = process.memoryUsage().rss;
    const rtts: number[] = [await echoed(good, 0)];

    // Each bomb twice (12 malformed messages, under the cap of 16): dropped and counted, the session stays.
    for (const [, body] of BOMBS) for (let i = 0; i < 2; i++) await bad.sendWhenRoom(encodeEnvelope('boom', body, false));
    const session = await waitFor('the hostile session', () => server.clients.find((s) => s.malformedMessages > 0), 5000);
    await waitFor('12 counted', () => (session.malformedMessages === 12 ? true : undefined), 10_000);
    for (let i = 1; i <= 20; i++) rtts.push(await echoed(good, i));
    expect(bad.isConnected).toBe(true);
    expect(errors).toHaveLength(1); // reported once per session, not per message
    expect(String((errors[0] as Error).message)).toMatch(/malformed message from session \d+/);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * 1024 * 1024);

    // Persisting past the cap cuts that session only.
    for (let i = 0; i < 5; i++) await bad.sendWhenRoom(encodeEnvelope('boom', BOMBS[0]![1], false));
    await waitFor('the cut', () => bad.end, 5000);
    expect(bad.end!.reason).toBe(DisconnectReason.ProtocolViolation);
    rtts.push(await echoed(good, 99));
    expect(good.state).toBe('connected');
    rtts.sort((a, b) => a - b);
    console.log(
      `hostile MessagePack: good client's echo p50 ${rtts[Math.floor(rtts.length / 2)]!.toFixed(2)} ms, max ${rtts.at(-1)!.toFixed(2)} ms; RSS +${((process.memoryUsage().rss - before) / 1e6).toFixed(1)} MB`,
    );
  });

  it('in the auth payload: refused with a clear reason when onAuth reads it, never decoded without onAuth', async () => {
    const withAuth = await serve({ onAuth: () => ({ accept: true }) });
    for (const bomb of [repeat('dcffff', 341), repeat('91', 1000), hex('ddffffffff')]) {
      const c = await HostileClient.connect(withAuth.address().url, bomb);
      rig.track(c);
      expect(c.isConnected).toBe(false);
      expect(c.end?.reason).toBe(DisconnectReason.Rejected);
      expect(c.end?.text).toMatch(/MessagePack/);
    }
    expect(withAuth.sessionCount).toBe(0);
    const noAuth = await serve();
    const c = await HostileClient.connect(noAuth.address().url, repeat('dcffff', 341));
    rig.track(c);
    expect(c.isConnected).toBe(true); // nobody reads it, so nobody decodes it
  });
});
