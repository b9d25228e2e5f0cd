/**
 * What a session promises an application, end to end on real sockets (127.0.0.1): the server's clock known
 * when connect() resolves, the move to WebRTC losing nothing (fast connect with WebRTC blocked: fast-connect.test.ts), broadcast coalescing like session.send, handlers before connecting,
 * several listeners side by side, handler errors and unknown types, pluggable transports.
 */

import { describe, expect, it } from 'vitest';
import { connect, createClient, type Client, type ClientTransport, type TransportKind } from '@volley/client';
import { DisconnectReason } from '@volley/protocol';
import { Server, UdpTransport, type ServerOptions } from '@volley/server';
import { SdkRig } from './support/sdk-rig.js';
import { waitFor } from './support/wait.js';

const rig = new SdkRig();
const serve = (options: ServerOptions = {}): Promise<Server> => rig.serve(options);
const track = (c: Client): Client => rig.track(c);

const KINDS: TransportKind[] = ['udp', 'websocket', 'polling', 'webrtc'];

describe.each(KINDS)('over %s', (kind) => {
  it("knows the server's clock when connect() resolves: within RTT/2 + 5 ms, from the handshake alone", async () => {
    const server = await serve({ transports: [kind], protocol: { pingInterval: 0 } });
    const c = track(await connect(server.address().url, { transports: [kind], protocol: { pingInterval: 0 } }));
    // Same process, so the truth is at hand: server.now() is the clock serverTime() estimates.
    const error = Math.abs(c.serverTime() - server.now());
    const s = c.stats();
    expect(s.ping.sent).toBe(0);
    expect(s.ping.clockSamples).toBe(1);
    expect(error).toBeLessThanOrEqual(c.rtt / 2 + 5);
    expect(c.rtt).toBe(s.rtt.smoothed);
  });

  it('reports a session closed from onConnect to a disconnect listener registered after await connect()', async () => {
    const server = await serve({ transports: [kind] });
    server.onConnect((s) => {
      s.send('last words', 1);
      s.close(DisconnectReason.Kicked, 'at once');
    });
    const c = track(await connect(server.address().url, { transports: [kind] }));
    const got: unknown[] = [];
    c.onMessage('last words', (d) => got.push(d));
    const [reason, text] = await new Promise<[number, string]>((r) => c.on('disconnect', (...a) => r(a)));
    expect([reason, text]).toEqual([DisconnectReason.Kicked, 'at once']);
    expect(got).toEqual([1]);
    expect(c.state).toBe('disconnected');
  });

  it('delivers what onConnect sends to handlers registered before connect()', async () => {
    const server = await serve({ transports: [kind] });
    server.onConnect((s) => s.send('welcome', { id: s.id }));
    const got: unknown[] = [];
    const c = track(createClient(server.address().url, { transports: [kind] }));
    c.onMessage('welcome', (d) => got.push(d));
    await c.connect();
    await waitFor('welcome', () => got.length > 0 || undefined, 5000);
    expect(got).toEqual([{ id: server.clients[0]!.id }]);
  });
});

describe('broadcast', () => {
  it('coalesces exactly like session.send: one packet per client for a turn of the event loop', async () => {
    const quiet = { pingInterval: 0, keepaliveInterval: 60_000 };
    const server = await serve({ transports: ['udp'], protocol: quiet });
    const cs = [
      track(await connect(server.address().url, { transports: ['udp'], protocol: quiet })),
      track(await connect(server.address().url, { transports: ['udp'], protocol: quiet })),
    ];
    let received = 0;
    for (const c of cs) c.onAnyMessage(() => received++);
    await waitFor('two sessions', () => server.clients.length === 2 || undefined, 5000);
    const sessions = server.clients;
    const sent = () => sessions.reduce((n, s) => n + s.stats().packetsSent, 0);
    const settle = async (n: number) => {
      await waitFor(`${n} messages`, () => received >= n || undefined, 5000);
      await new Promise((r) => setTimeout(r, 50)); // owed acks out of the way
    };
    await settle(0);
    let before = sent();
    for (let i = 0; i < 10; i++) for (const s of sessions) s.send('n', i);
    await settle(20);
    const perSend = sent() - before;
    before = sent();
    for (let i = 0; i < 10; i++) server.broadcast('n', i);
    await settle(40);
    const perBroadcast = sent() - before;
    expect(perSend).toBe(2);
    expect(perBroadcast).toBe(perSend);
  });

  it('still reaches the others when one client cannot take it, and says which failed', async () => {
    const server = await serve({ transports: ['websocket'], channels: [{ kind: 'reliable-ordered', window: 4 }, { kind: 'unreliable' }] });
    const a = track(await connect(server.address().url, { transports: ['websocket'] }));
    const b = track(await connect(server.address().url, { transports: ['websocket'] }));
    a.onMessage('fill', () => {});
    const atB: number[] = [];
    b.onMessage('n', (n) => atB.push(n as number));
    await waitFor('two sessions', () => server.clients.length === 2 || undefined, 5000);
    const slowA = server.clients.find((s) => s.id !== server.clients.at(-1)!.id)!;
    for (let i = 0; i < 4; i++) slowA.send('fill', i); // A's window is full until acks come back
    let error: unknown;
    try {
      server.broadcast('n', 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toHaveLength(1);
    await waitFor("B's copy", () => atB.length > 0 || undefined, 5000);
  });
});

describe('listeners, errors and unknown types', () => {
  it('runs every listener side by side; unsubscribe removes just one', async () => {
    const server = await serve({ transports: ['websocket'] });
    const seen: string[] = [];
    const offA = server.onConnect(() => seen.push('a'));
    server.on('connect', () => seen.push('b'));
    const m1: unknown[] = [];
    const m2: unknown[] = [];
    server.onMessage('x', (_s, d) => m1.push(d));
    const off2 = server.onMessage('x', (_s, d) => m2.push(d));
    const c = track(await connect(server.address().url, { transports: ['websocket'] }));
    await waitFor('connect listeners', () => seen.length === 2 || undefined, 5000);
    offA();
    c.send('x', 1);
    await waitFor('both handlers', () => m2.length === 1 || undefined, 5000);
    off2();
    c.send('x', 2);
    await waitFor('first handler only', () => m1.length === 2 || undefined, 5000);
    expect(m1).toEqual([1, 2]);
    expect(m2).toEqual([1]);
    track(await connect(server.address().url, { transports: ['websocket'] }));
    await waitFor('b only', () => seen.length === 3 || undefined, 5000);
    expect(seen).toEqual(['a', 'b', 'b']);
  });

  it("reports a client handler's exception as an 'error' event, and keeps going", async () => {
    const server = await serve({ transports: ['websocket'] });
    server.onAnyMessage((s, type, data) => s.send(type, data));
    const c = track(await connect(server.address().url, { transports: ['websocket'] }));
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    let after = 0;
    c.onMessage('boom', () => {
      throw new Error('handler bug');
    });
    c.onMessage('fine', () => after++);
    c.send('boom');
    c.send('fine');
    await waitFor('the message after', () => after > 0 || undefined, 5000);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('handler bug');
    expect(c.state).toBe('connected');
  });

  it('counts messages of a type nobody handles, warning once per type; onAnyMessage takes them when set', async () => {
    const server = await serve({ transports: ['websocket'] });
    const c = track(await connect(server.address().url, { transports: ['websocket'] }));
    await waitFor('session', () => server.clients[0], 5000);
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: unknown) => void warnings.push(String(m));
    try {
      for (let i = 0; i < 5; i++) server.clients[0]!.send('nobody', i);
      await waitFor('counted', () => (c.stats().unhandledMessages['nobody'] === 5 ? true : undefined), 5000);
      expect(warnings.filter((w) => w.includes("'nobody'"))).toHaveLength(1);
      for (let i = 0; i < 3; i++) c.send('no-handler-on-server', i);
      await waitFor('server counted', () => (server.unhandledMessages.get('no-handler-on-server') === 3 ? true : undefined), 5000);
      expect(warnings.filter((w) => w.includes("'no-handler-on-server'"))).toHaveLength(1);
    } finally {
      console.warn = warn;
    }
    const any: string[] = [];
    c.onAnyMessage((type) => any.push(type));
    server.clients[0]!.send('nobody', 6);
    await waitFor('onAnyMessage', () => any.length > 0 || undefined, 5000);
    expect(c.stats().unhandledMessages['nobody']).toBe(5);
  });
});

describe('pluggable transports', () => {
  it('takes server transport instances with their own options, and client factories and wrappers', async () => {
    const udp = new UdpTransport({ maxLinks: 1 });
    const server = await serve({ transports: [udp, 'websocket'] });
    server.onAnyMessage((s, type, data) => s.send(type, data));
    let wrapped = 0;
    let datagrams = 0;
    const wrap = (t: ClientTransport): ClientTransport => {
      wrapped++;
      const send = t.send.bind(t);
      t.send = (d) => {
        datagrams++;
        send(d);
      };
      return t;
    };
    const a = track(await connect(server.address().url, { transports: ['udp'], wrap }));
    expect(a.transport).toBe('udp');
    expect(wrapped).toBe(1);
    let echoed = false;
    a.onMessage('hi', () => (echoed = true));
    a.send('hi');
    await waitFor('echo through the wrapper', () => echoed || undefined, 5000);
    expect(datagrams).toBeGreaterThan(1);
    // maxLinks 1 was the instance's own option: a second UDP client finds no room and falls back to WebSocket.
    const b = track(await connect(server.address().url, { transports: ['udp', 'websocket'], openTimeout: 1500, upgrade: false }));
    expect(b.transport).toBe('websocket');
    expect(udp.linkCount).toBe(1);
  });
});

describe('fast connect', () => {
  const browserOrder: TransportKind[] = ['webrtc', 'websocket', 'polling'];

  it('with nothing blocked: ends on WebRTC, and the move loses or reorders no reliable message', async () => {
    const server = await serve({ transports: browserOrder });
    server.onAnyMessage((s, type, data) => s.send(type, data));
    const c = track(await connect(server.address().url, { transports: browserOrder }));
    const start = c.transport;
    const echoed: number[] = [];
    const moves: string[] = [];
    c.on('transport', (k, prev) => moves.push(`${prev}→${k}`));
    c.onMessage('n', (n) => echoed.push(n as number));
    let sent = 0;
    const timer = setInterval(() => c.send('n', sent++), 2);
    try {
      await waitFor('the session on WebRTC', () => (c.transport === 'webrtc' ? true : undefined), 10_000);
      const at = sent;
      await waitFor('100 more sent', () => sent >= at + 100 || undefined, 5000);
    } finally {
      clearInterval(timer);
    }
    await waitFor('every echo', () => echoed.length >= sent || undefined, 10_000);
    expect(echoed).toEqual(Array.from({ length: sent }, (_, i) => i));
    if (start !== 'webrtc') expect(moves).toEqual([`${start}→webrtc`]);
    expect(server.clients[0]!.transport).toBe('webrtc');
  });

  it("ends the session with the server's verdict, not a fallback, when auth refuses", async () => {
    const server = await serve({ transports: ['websocket', 'polling'], onAuth: () => ({ accept: false, reason: 'no' }) });
    const err = await connect(server.address().url, { transports: ['websocket', 'polling'] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rejected', reason: DisconnectReason.Rejected });
    expect(server.sessionCount).toBe(0);
  });
});
