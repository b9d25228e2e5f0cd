/**
 * Server and Node client SDKs end to end, on real sockets on 127.0.0.1: every transport forced in turn,
 * then fallback and migration. Every server started here is closed by the test that started it.
 */

import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { connect, ConnectError, type Client, type TransportKind } from '@volley/client';
import { Server, type ServerOptions } from '@volley/server';
import { SdkRig } from './support/sdk-rig.js';
import { DisconnectReason, SendError } from '@volley/protocol';

const rig = new SdkRig();

async function serve(options: ServerOptions = {}): Promise<Server> {
  const s = await rig.serve(options);
  // The echo every test relies on: each message goes back on the channel it came on.
  s.onAnyMessage((session, type, data, { channel }) => session.send(type, data, { channel }));
  return s;
}

async function client(server: Server, options: Parameters<typeof connect>[1] = {}): Promise<Client> {
  return rig.track(await connect(server.address().url, { openTimeout: 8000, ...options }));
}

function waitFor<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const tick = () => {
      const v = f();
      if (v !== undefined && v !== false) return resolve(v);
      if (performance.now() - start > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

const KINDS: TransportKind[] = ['udp', 'websocket', 'polling', 'webrtc'];

describe.each(KINDS)('over %s', (kind) => {
  it('connects, carries messages both ways on every channel kind, and large fragmented ones', async () => {
    const server = await serve();
    const c = await client(server, { transports: [kind] });
    expect(c.transport).toBe(kind);
    const got: { type: string; data: unknown }[] = [];
    c.onAnyMessage((type, data) => got.push({ type, data }));
    const channels = ['reliable-ordered', 'reliable-unordered', 'unreliable-sequenced', 'unreliable'] as const;
    for (const channel of channels) c.send(`hello-${channel}`, { n: 1, channel }, { channel });
    const big = new Uint8Array(100_000).map((_, i) => (i * 7) & 0xff);
    c.send('big', big);
    await waitFor('echoes', () => got.length >= 5 || undefined);
    for (const channel of channels) expect(got).toContainEqual({ type: `hello-${channel}`, data: { n: 1, channel } });
    const echoed = got.find((g) => g.type === 'big')!.data as Uint8Array;
    expect(echoed).toBeInstanceOf(Uint8Array);
    expect(Buffer.compare(Buffer.from(echoed), Buffer.from(big))).toBe(0);
    expect(server.clients).toHaveLength(1);
    expect(server.clients[0]!.transport).toBe(kind);
    await waitFor('an RTT', () => (c.stats().ping.rtt ? true : undefined), 5000);
    expect(c.rtt).toBeGreaterThan(0);
  });
});

describe.each(KINDS)('auth, limits and shutdown over %s', (kind) => {
  const only = { transports: [kind] as TransportKind[] };
  it('passes auth to onAuth, which accepts with user data or rejects with a reason the client receives', async () => {
    const server = await serve({
      ...only,
      onAuth: (auth) =>
        (auth as { token?: string })?.token === 'good' ? { accept: true, user: { name: 'ada' } } : { accept: false, reason: 'bad token' },
    });
    const ok = await client(server, { ...only, auth: { token: 'good' } });
    expect(ok.state).toBe('connected');
    await waitFor('session', () => server.clients[0]);
    expect(server.clients[0]!.user).toEqual({ name: 'ada' });
    const err = await connect(server.address().url, { ...only, auth: { token: 'nope' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe('rejected');
    expect((err as ConnectError).message).toContain('bad token');
  });

  it("rejects an oversize message at send() with a clear error (the client uses the server's limits)", async () => {
    const server = await serve({ ...only, limits: { maxMessageSize: 1000 } });
    const c = await client(server, only);
    expect(() => c.send('x', new Uint8Array(2000))).toThrow(SendError);
    expect(() => c.send('x', new Uint8Array(900))).not.toThrow();
  });

  it('trySend says false when a side holds all it may (no exception), and everything it took arrives', async () => {
    const limits = { maxMessageSize: 1000, maxSendBuffer: 4000 };
    const server = await serve({ ...only, limits });
    const c = await client(server, { ...only, protocol: { maxSendBuffer: 4000 } });
    const echoes: unknown[] = [];
    c.onMessage('x', (d) => echoes.push(d));
    let queued = 0;
    for (let i = 0; i < 100 && c.trySend('x', new Uint8Array(900).fill(i)); i++) queued++;
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(4); // 4000 bytes of 900-byte messages (and their headers)
    expect(() => c.trySend('x', new Uint8Array(2000))).toThrow(SendError); // too large: still a mistake
    await waitFor('the echoes', () => echoes.length >= queued || undefined);
    const session = server.clients[0]!;
    // The echoes count against the session's buffer until the client acknowledges them.
    await waitFor('the echoes acknowledged', () => session.stats().pendingReliableBytes === 0 || undefined);
    const got: number[] = [];
    c.onMessage('y', (d) => got.push((d as Uint8Array)[0]!));
    let sent = 0;
    for (let i = 0; i < 100 && session.trySend('y', new Uint8Array(900).fill(i)); i++) sent++;
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(4);
    await waitFor('the messages', () => got.length >= sent || undefined);
    expect(got).toEqual([...Array(sent).keys()]);
  });

  it('disconnects a client over its message rate with a reason, and no one else', async () => {
    const server = await serve({ ...only, limits: { messagesPerSecond: 50 } });
    const flooder = await client(server, only);
    const calm = await client(server, only);
    let reason: number | undefined;
    flooder.on('disconnect', (r) => (reason = r));
    for (let i = 0; i < 500; i++) flooder.send('spam', i);
    await waitFor('rate-limit disconnect', () => reason);
    expect(reason).toBe(DisconnectReason.RateLimited);
    let echoed = false;
    calm.onMessage('still', () => (echoed = true));
    calm.send('still', 'here');
    await waitFor('calm echo', () => echoed || undefined);
    expect(calm.state).toBe('connected');
  });

  it('refuses clients past maxSessions with server-full', async () => {
    const server = await serve({ ...only, limits: { maxSessions: 1 } });
    await client(server, only);
    // (A generous open timeout: under a loaded CI machine a WebRTC open has been seen to take over 5 s.)
    const err = await connect(server.address().url, { ...only, openTimeout: 20_000 }).catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe('server-full');
  });

  it('shuts down gracefully: clients learn why, ports are free again', async () => {
    const server = await serve(only);
    const { port, udpPort } = server.address();
    const a = await client(server, only);
    const b = await client(server, only);
    const reasons: number[] = [];
    a.on('disconnect', (r) => reasons.push(r));
    b.on('disconnect', (r) => reasons.push(r));
    await server.close();
    await waitFor('both told', () => (reasons.length === 2 ? true : undefined));
    expect(reasons).toEqual([DisconnectReason.ShuttingDown, DisconnectReason.ShuttingDown]);
    const again = new Server({ port, udpPort: udpPort ?? 0, ...only });
    rig.track(again);
    await expect(again.listen()).resolves.toBe(again);
  });
});

describe('fallback', () => {
  it('lands on WebSocket when WebRTC (and UDP) are off, and says why each was skipped', async () => {
    const server = await serve({ transports: ['websocket', 'polling'] });
    const c = await client(server);
    expect(c.transport).toBe('websocket');
    expect(c.failures.map((f) => f.transport)).toEqual(['udp', 'webrtc']);
    expect(c.failures[0]!.reason).toContain('not offered');
  });

  it('lands on polling when only polling is on', async () => {
    const server = await serve({ transports: ['polling'] });
    const c = await client(server);
    expect(c.transport).toBe('polling');
    expect(c.failures.map((f) => f.transport)).toEqual(['udp', 'webrtc', 'websocket']);
  });

  it('moves on when a transport is offered but does not answer, with the reason', async () => {
    const server = await serve({ transports: ['udp', 'websocket'] });
    const real = server.address();
    // A front server: the real /volley/info but with UDP pointing at a socket that never answers; other requests
    // (the UDP connect token) and WebSocket upgrades go through to the real server.
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const front = http.createServer((req, res) => {
      if (req.url !== '/volley/info') {
        void fetch(new URL(req.url ?? '/', real.url), { method: req.method ?? 'GET' }).then(async (r) =>
          res
            .writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'text/plain' })
            .end(Buffer.from(await r.arrayBuffer())),
        );
        return;
      }
      const info = server.info();
      (info.endpoints.udp as { port: number }).port = silent.address().port;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(info));
    });
    front.on('upgrade', (req, socket, head) => {
      const up = net.connect(real.port, '127.0.0.1', () => {
        up.write(
          `${req.method} ${req.url} HTTP/1.1\r\n${Object.entries(req.headers)
            .map(([k, v]) => `${k}: ${String(v)}`)
            .join('\r\n')}\r\n\r\n`,
        );
        up.write(head);
        socket.pipe(up).pipe(socket);
      });
      up.on('error', () => socket.destroy());
      socket.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    try {
      const port = (front.address() as { port: number }).port;
      // Default: both start at once; the session starts on WebSocket at once, UDP's failure is reported when it comes.
      const c = await connect(`http://127.0.0.1:${port}`, { transports: ['udp', 'websocket'], openTimeout: 700 });
      rig.track(c);
      expect(c.transport).toBe('websocket');
      const failed = await new Promise<[string, string]>((r) => c.on('transport-failed', (kind, reason) => r([kind, reason])));
      expect(failed[0]).toBe('udp');
      expect(failed[1]).toMatch(/700 ms/);
      expect(c.failures.map((f) => f.transport)).toEqual(['udp']);
      // One after another (upgrade: false): UDP's failure is known before the session starts on WebSocket.
      const seq = await connect(`http://127.0.0.1:${port}`, { transports: ['udp', 'websocket'], openTimeout: 700, upgrade: false });
      rig.track(seq);
      expect(seq.transport).toBe('websocket');
      expect(seq.failures).toHaveLength(1);
      expect(seq.failures[0]!.reason).toMatch(/700 ms/);
    } finally {
      await rig.closeClients();
      silent.close();
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
    }
  });

  it('refuses a server of another protocol version before opening any transport', async () => {
    const server = await serve({ transports: ['websocket'] });
    // The real server's info with another version in it: the client must not try the (working) transport.
    let answer: Record<string, unknown> = {};
    const front = http.createServer((req, res) => {
      if (req.url !== '/volley/info') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(front.address() as { port: number }).port}`;
      const info = server.info();
      answer = { ...info, protocol: info.protocol - 1 };
      const err = await connect(url, { openTimeout: 2000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe('version-mismatch');
      expect((err as ConnectError).reason).toBe(DisconnectReason.VersionMismatch);
      expect((err as ConnectError).message).toContain(`protocol ${info.protocol - 1}`);
      answer = { transports: info.transports, endpoints: info.endpoints };
      const bare = await connect(url, { openTimeout: 2000 }).catch((e: unknown) => e);
      expect((bare as ConnectError).code).toBe('unreachable');
      expect((bare as ConnectError).message).toContain('no protocol version');
      expect(server.clients).toHaveLength(0);
    } finally {
      front.closeAllConnections();
      await new Promise((r) => front.close(r));
    }
  });
});

describe('migration', () => {
  for (const [from, to] of [
    ['websocket', 'polling'],
    ['udp', 'websocket'],
  ] as const) {
    it(`keeps 10 000 reliable-ordered messages each way exact when ${from} dies mid-stream (→ ${to})`, async () => {
      // A window large enough for all 10 000 messages to be in flight at once (the client takes the layout from the server).
      const channels = [{ kind: 'reliable-ordered' as const, window: 16384, maxQueuedBytes: 16 << 20 }, { kind: 'unreliable' as const }];
      const server = await serve({ transports: [from, to], channels, limits: { messagesPerSecond: 1e6, bytesPerSecond: 1e9 } });
      const total = 10_000;
      const atServer: number[] = [];
      server.onMessage('n', (session, n) => {
        atServer.push(n as number);
      });
      const c = await client(server, { transports: [from, to], transportTimeout: 1500 });
      expect(c.transport).toBe(from);
      const atClient: number[] = [];
      c.onMessage('n', (n) => atClient.push(n as number));
      const moved: string[] = [];
      c.on('transport', (k, prev) => moved.push(`${prev}→${k}`));
      const session = await waitFor('session', () => server.clients[0]);
      // Both sides stream, 200 messages per tick; halfway the current transport is killed from the server side.
      let sent = 0;
      await new Promise<void>((resolve) => {
        const tick = () => {
          for (let i = 0; i < 200 && sent < total; i++, sent++) {
            c.send('n', sent);
            session.send('n', sent);
          }
          if (sent === total / 2) session.dropLink();
          if (sent < total) setTimeout(tick, 2);
          else resolve();
        };
        tick();
      });
      expect(c.stats().channels[0]!.queuedMessages + session.stats().channels[0]!.queuedMessages).toBeGreaterThan(0);
      await waitFor('all delivered', () => (atServer.length >= total && atClient.length >= total ? true : undefined), 30_000);
      const all = Array.from({ length: total }, (_, i) => i);
      expect(atServer).toEqual(all);
      expect(atClient).toEqual(all);
      expect(moved).toEqual([`${from}→${to}`]);
      expect(c.transport).toBe(to);
    });
  }

  it('reports a clear disconnect when no transport can take the session', async () => {
    const server = await serve({ transports: ['websocket'] });
    const c = await client(server, { transports: ['websocket'], resumeTimeout: 1000 });
    let reason: number | undefined;
    c.on('disconnect', (r) => (reason = r));
    const { port } = server.address();
    void port;
    // The server disappears without a word (its transports stop; nothing can resume).
    await server.close();
    await waitFor('disconnect', () => reason, 15_000);
    expect([DisconnectReason.ShuttingDown, DisconnectReason.TransportLost]).toContain(reason);
  });
});

describe('upgrade, attach, lag figures', () => {
  it('starts on WebSocket and moves the session to WebRTC when it opens (upgrade)', async () => {
    const server = await serve({ transports: ['webrtc', 'websocket'] });
    const c = await client(server, { transports: ['webrtc', 'websocket'], upgrade: true });
    expect(c.transport).toBe('websocket');
    const moved = await new Promise<string>((resolve) => c.on('transport', (k, prev) => resolve(`${prev}→${k}`)));
    expect(moved).toBe('websocket→webrtc');
    let echoed = 0;
    c.onMessage('after', () => echoed++);
    for (let i = 0; i < 20; i++) c.send('after', i);
    await waitFor('echoes after upgrade', () => (echoed === 20 ? true : undefined));
    await waitFor('server sees webrtc', () => (server.clients[0]?.transport === 'webrtc' ? true : undefined));
  });

  it('attaches to an existing http.Server and leaves its other routes alone', async () => {
    const app = http.createServer();
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const port = (app.address() as { port: number }).port;
    const server = new Server({ server: app, port, udpPort: 0, transports: ['websocket', 'polling'] });
    server.http.fallback = (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('my game page');
    await server.listen();
    try {
      server.onAnyMessage((session, type, data) => session.send(type, data));
      const page = await fetch(`http://127.0.0.1:${port}/`);
      expect(await page.text()).toBe('my game page');
      const c = await connect(`http://127.0.0.1:${port}`);
      let got: unknown;
      c.onMessage('hi', (d) => (got = d));
      c.send('hi', { a: 1 });
      await waitFor('echo', () => got);
      expect(got).toEqual({ a: 1 });
      await c.close();
    } finally {
      await server.close();
      app.closeAllConnections();
      await new Promise((r) => app.close(r));
    }
  });

  it('reports RTT, jitter, loss, server time and per-session stats, also as periodic events', async () => {
    const server = await serve({ transports: ['udp'], protocol: { pingInterval: 100 } });
    const c = await client(server, { transports: ['udp'], statsInterval: 100, protocol: { pingInterval: 100 } });
    const events: number[] = [];
    c.on('stats', (s) => events.push(s.packetsReceived));
    await waitFor('three stats events', () => (events.length >= 3 ? true : undefined));
    expect(c.rtt).toBeGreaterThan(0);
    expect(c.jitter).toBeGreaterThanOrEqual(0);
    expect(c.loss).toEqual({ up: 0, down: 0 });
    // Same machine, same clock: the server time estimate is within a few ms of ours.
    expect(Math.abs(c.serverTime() - performance.now())).toBeLessThan(20);
    const s = server.clients[0]!.stats();
    expect(s.transport).toBe('udp');
    expect(s.packetsReceived).toBeGreaterThan(0);
    expect(s.rtt.smoothed).toBeGreaterThan(0);
  });
});

describe('links that never say who they are', () => {
  it('closes a WebSocket that sends nothing valid within the handshake timeout', async () => {
    const { WebSocket } = await import('ws');
    const server = await serve({ transports: ['websocket'], limits: { handshakeTimeout: 300 } });
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/volley/ws`);
    await new Promise((r) => ws.once('open', r));
    ws.send(new Uint8Array([0x80, 0, 0])); // a data packet, no CONNECT: ignored
    expect(server.pendingLinks).toBe(1);
    const closed = await new Promise<boolean>((r) => {
      ws.once('close', () => r(true));
      setTimeout(() => r(false), 5000);
    });
    expect(closed).toBe(true);
    expect(server.pendingLinks).toBe(0);
  });
});
