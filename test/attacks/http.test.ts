/**
 * Hostile clients against the HTTP port (docs/transports.md, "HTTP limits"): paths that only look like
 * routes, upgrades nobody serves, huge and endless bodies, slow requests, and too many connections. Each
 * case is bounded: a few sockets, short configured timeouts, small configured caps, loops with deadlines.
 */

import { createServer, type Server as NodeHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpHost, PollingTransport, Server, type HttpHostOptions } from '@volley/server';
import { RawConn, sleep, waitUntil } from './raw-http.js';

const conns: RawConn[] = [];
const servers: Server[] = [];
const hosts: { http: NodeHttpServer; polling?: PollingTransport }[] = [];

afterEach(async () => {
  for (const c of conns.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await s.close();
  for (const h of hosts.splice(0)) {
    await h.polling?.stop();
    h.http.closeAllConnections();
    await new Promise<void>((r) => h.http.close(() => r()));
  }
});

/** A real Server on 127.0.0.1 with the HTTP transports only (WebSocket and polling). */
async function serve(): Promise<{ server: Server; port: number }> {
  const server = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, transports: ['websocket', 'polling'] });
  servers.push(server);
  await server.listen();
  return { server, port: server.address().port };
}

/** An HttpHost with `options` on a fresh HTTP server on 127.0.0.1, optionally with a polling transport. */
async function host(options: HttpHostOptions, polling?: PollingTransport): Promise<{ host: HttpHost; port: number }> {
  const http = createServer();
  const h = new HttpHost(http, options);
  hosts.push({ http, polling });
  h.route('/volley/info', (_req, res) => void res.writeHead(200, { 'content-type': 'text/plain' }).end('info\n'), { exact: true });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  if (polling) await polling.start({ http: h, host: '127.0.0.1', mtu: 1200, onLink: () => {} });
  return { host: h, port: (http.address() as AddressInfo).port };
}

const open = (port: number): Promise<RawConn> => RawConn.open(port, conns);

/** One request on a fresh connection; resolves with the status code (0 if the server closed without one). */
async function status(port: number, method: string, path: string, extra = ''): Promise<number> {
  const c = await open(port);
  c.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);
  await waitUntil(() => c.closed || /\r\n\r\n/.test(c.received), 3000);
  c.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(c.received)?.[1] ?? 0);
}

async function openKey(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/volley/poll/open`, { method: 'POST' });
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer()).toString('hex');
}

describe('routes match whole path segments', () => {
  it('does not take /volley/infox or /volley/pollx for /volley/info or /volley/poll; unknown paths get 404', async () => {
    const { port } = await serve();
    expect(await status(port, 'GET', '/volley/info')).toBe(200);
    expect(await status(port, 'GET', '/volley/infox')).toBe(404);
    expect(await status(port, 'GET', '/volley/info.json')).toBe(404);
    expect(await status(port, 'POST', '/volley/pollx/open')).toBe(404);
    expect(await status(port, 'POST', '/volley/poll/open')).toBe(200);
    expect(await status(port, 'GET', '/nothing/here')).toBe(404);
  });

  it('takes an exact route only at its path, a prefix route at its path and below it', async () => {
    const { host: h, port } = await host({});
    h.route('/p', (_req, res) => void res.writeHead(200).end());
    expect(await status(port, 'GET', '/volley/info')).toBe(200);
    expect(await status(port, 'GET', '/volley/info?x=1')).toBe(200);
    expect(await status(port, 'GET', '/volley/info/')).toBe(404);
    expect(await status(port, 'GET', '/volley/info/x')).toBe(404);
    expect(await status(port, 'GET', '/p')).toBe(200);
    expect(await status(port, 'GET', '/p/a/b')).toBe(200);
    expect(await status(port, 'GET', '/px')).toBe(404);
  });
});

describe('upgrades', () => {
  it('answers an upgrade on an unknown path with a 404 status line and ends the socket', async () => {
    const { port } = await serve();
    for (const path of ['/nope', '/volley/wsx']) {
      const c = await open(port);
      c.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
          'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      );
      expect(await waitUntil(() => c.closed, 3000)).toBe(true);
      expect(c.received).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
      expect(c.received).toMatch(/\r\nConnection: close\r\n/i);
    }
  });
});

describe('request bodies', () => {
  const chunk = Buffer.alloc(64 * 1024, 0x61);

  it('refuses POST /volley/poll/open with a huge declared body (413) without reading it', async () => {
    const { port } = await serve();
    const c = await open(port);
    c.write('POST /volley/poll/open HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 200000000\r\n\r\n');
    await c.flood(chunk, 32 << 20, 3000);
    expect(await waitUntil(() => c.closed, 3000)).toBe(true);
    expect(c.received).toMatch(/^HTTP\/1\.1 413 /);
    expect(c.sent).toBeLessThan(32 << 20); // cut off long before; the server read far less than that
  });

  it('refuses an actual (chunked) body over 1 KiB on /open (413)', async () => {
    const { port } = await serve();
    const c = await open(port);
    c.write('POST /volley/poll/open HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    c.write(`800\r\n${'a'.repeat(0x800)}\r\n`);
    expect(await waitUntil(() => c.closed, 3000)).toBe(true);
    expect(c.received).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('opens a link with a small body', async () => {
    const { port } = await serve();
    const c = await open(port);
    c.write('POST /volley/poll/open HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: 10\r\n\r\n0123456789');
    await waitUntil(() => c.closed, 3000);
    expect(c.received).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('refuses a declared body over the cap on GET /volley/info (413) and on unknown paths', async () => {
    const { port } = await serve();
    expect(await status(port, 'GET', '/volley/info', 'Content-Length: 10000000\r\n')).toBe(413);
    expect(await status(port, 'POST', '/nothing', 'Content-Length: 10000000\r\n')).toBe(413);
  });

  it('does not drain an endless body nobody reads: the connection is cut after the answer', async () => {
    const { port } = await serve();
    const c = await open(port);
    c.write('POST /volley/info HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n');
    const frame = Buffer.concat([Buffer.from('10000\r\n'), chunk, Buffer.from('\r\n')]);
    await c.flood(frame, 64 << 20, 3000);
    expect(c.closed).toBe(true);
    expect(c.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.sent).toBeLessThan(64 << 20);
  });
});

describe('timeouts', () => {
  it('sets seconds-scale timeouts on a server left at Node defaults, and keeps a server owner’s own', () => {
    const plain = createServer();
    new Server({ server: plain, transports: ['websocket', 'polling'] });
    expect([plain.headersTimeout, plain.requestTimeout]).toEqual([10_000, 15_000]);
    const own = createServer({ requestTimeout: 42_000, headersTimeout: 20_000 });
    new HttpHost(own);
    expect([own.headersTimeout, own.requestTimeout]).toEqual([20_000, 42_000]);
  });

  it('cuts slow headers and slow bodies after the configured timeouts', async () => {
    const polling = new PollingTransport({ holdMs: 1500 });
    const { port } = await host({ headersTimeout: 300, requestTimeout: 600 }, polling);
    const key = await openKey(port);
    const slow: RawConn[] = [];
    for (let i = 0; i < 3; i++) {
      const headers = await open(port);
      headers.write('GET /volley/info HTTP/1.1\r\nHost: 127.0.0.1\r\n'); // never finished
      const body = await open(port);
      body.write(`POST /volley/poll/${key} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n\u0000`);
      slow.push(headers, body);
    }
    const started = Date.now();
    // Trickle one byte every 50 ms into the bodies, so they are never idle, just slow.
    while (!slow.every((c) => c.closed) && Date.now() - started < 3000) {
      for (const c of slow.filter((_, i) => i % 2 === 1)) c.write('\u0000');
      await sleep(50);
    }
    expect(slow.every((c) => c.closed)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2500);
    // A fresh client still gets its answer.
    expect(await status(port, 'GET', '/volley/info')).toBe(200);
  });

  it('keeps a held GET open longer than requestTimeout: the timeout is for receiving the request only', async () => {
    const polling = new PollingTransport({ holdMs: 1500 });
    const { port } = await host({ headersTimeout: 300, requestTimeout: 600 }, polling);
    const key = await openKey(port);
    const started = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/volley/poll/${key}`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(204);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

describe('connection caps', () => {
  /** True if the connection is served (a request on it gets an answer), false if the host cut it. */
  async function served(c: RawConn): Promise<boolean> {
    c.write('GET /volley/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await waitUntil(() => c.closed || c.received.includes('info\n'), 3000);
    return c.received.includes('info\n');
  }

  it('refuses connections over the per-source cap, and admits again once one closes', async () => {
    const { host: h, port } = await host({ maxConnectionsPerSource: 3 });
    const ok = [await open(port), await open(port), await open(port)];
    for (const c of ok) expect(await served(c)).toBe(true);
    const over = await open(port);
    expect(await served(over)).toBe(false);
    expect(h.counters.refusedPerSource).toBe(1);
    ok[0]!.destroy();
    await waitUntil(() => h.connections === 2, 3000);
    expect(await served(await open(port))).toBe(true);
  });

  it('refuses connections over the total cap', async () => {
    const { host: h, port } = await host({ maxConnections: 2, maxConnectionsPerSource: 100 });
    const ok = [await open(port), await open(port)];
    for (const c of ok) expect(await served(c)).toBe(true);
    expect(await served(await open(port))).toBe(false);
    expect(h.counters.refusedTotal).toBe(1);
    expect(h.connections).toBe(2);
  });
});

describe('the Server uses them', () => {
  it('answers /volley/info at exactly that path', async () => {
    const s = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, transports: ['websocket'] });
    await s.listen();
    try {
      const base = s.address().url;
      expect((await fetch(`${base}/volley/info`)).status).toBe(200);
      expect((await fetch(`${base}/volley/info/x`)).status).toBe(404);
      expect((await fetch(`${base}/volley/infox`)).status).toBe(404);
    } finally {
      await s.close();
    }
  });

  it('takes the HTTP limits through its options', async () => {
    const options: HttpHostOptions = { maxConnectionsPerSource: 1 };
    const s = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, transports: ['websocket'], http: options });
    await s.listen();
    const raw: RawConn[] = [];
    try {
      await RawConn.open(s.address().port, raw);
      await RawConn.open(s.address().port, raw).catch(() => undefined);
      expect(await waitUntil(() => s.http.counters.refusedPerSource === 1, 5000)).toBe(true);
    } finally {
      for (const c of raw) c.socket.destroy();
      await s.close();
    }
  });
});
