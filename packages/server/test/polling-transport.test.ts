import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { PollingClientTransport } from '@volley/client';
import type { ServerInfo } from '@volley/client';
import type { TransportLink } from '../src/transport.js';
import { encodeBatch, parseBatch } from '@volley/protocol';
import { PollingTransport, type PollingTransportOptions } from '../src/transports/polling.js';
import { datagram, mismatches, startOnHttp, until } from './transport-rig.js';

interface Rig {
  base: URL;
  /** http://127.0.0.1:port/volley/poll */
  poll: string;
  info: ServerInfo;
  transport: PollingTransport;
  links: TransportLink[];
  closes: string[];
  stop: () => Promise<void>;
}

const rigs: Rig[] = [];
const clients: PollingClientTransport[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const r of rigs.splice(0)) await r.stop();
});

async function startRig(options: PollingTransportOptions = {}, echo = true): Promise<Rig> {
  const transport = new PollingTransport(options);
  const links: TransportLink[] = [];
  const closes: string[] = [];
  const http = await startOnHttp(transport, (link) => {
    links.push(link);
    link.onDatagram = echo ? (d) => link.send(d) : () => {};
    link.onClose = (why) => closes.push(why);
  });
  const rig: Rig = {
    base: http.base,
    poll: `http://127.0.0.1:${http.port}/volley/poll`,
    info: { protocol: 1, transports: ['polling'], endpoints: { polling: transport.info() } },
    transport,
    links,
    closes,
    stop: http.stop,
  };
  rigs.push(rig);
  return rig;
}

function client(rig: Rig): PollingClientTransport {
  const c = new PollingClientTransport(rig.base, rig.info);
  clients.push(c);
  return c;
}

async function openKey(rig: Rig): Promise<string> {
  const res = await fetch(`${rig.poll}/open`, { method: 'POST' });
  expect(res.status).toBe(200);
  const key = Buffer.from(await res.arrayBuffer());
  expect(key.byteLength).toBe(16);
  return key.toString('hex');
}

const u32 = (d: Uint8Array): number => new DataView(d.buffer, d.byteOffset).getUint32(0);

describe('polling batch format', () => {
  it('encodes and parses u16-length-prefixed datagrams', () => {
    const ds = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7)];
    const b = encodeBatch(ds);
    expect([...b.subarray(0, 5)]).toEqual([0, 3, 1, 2, 3]);
    expect(parseBatch(b)).toEqual(ds);
    expect(parseBatch(new Uint8Array(0))).toEqual([]);
    expect(parseBatch(new Uint8Array([0]))).toMatch(/truncated/);
    expect(parseBatch(new Uint8Array([0, 5, 1]))).toMatch(/claims 5 bytes/);
    expect(parseBatch(b, 100)).toMatch(/exceeds/);
  });
});

describe('polling transport', () => {
  it('1000 datagrams of 1..1200 bytes round-trip in order and intact', async () => {
    const rig = await startRig();
    const t = client(rig);
    const got: Uint8Array[] = [];
    t.onDatagram = (d) => got.push(d);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    const link = rig.links[0]!;
    expect([link.kind, link.reliable]).toEqual(['polling', true]);
    expect(link.remote).toMatch(/^127\.0\.0\.1:\d+$/);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) {
      const d = datagram(i, 1 + ((i * 397) % 1200));
      sent.push(d);
      t.send(d);
      if (i % 50 === 49) await new Promise((r) => setTimeout(r, 1)); // POSTs in flight while more queue up
    }
    await until(() => got.length === 1000);
    expect(mismatches(got, sent)).toEqual([]);
  });

  it('many datagrams back-to-back arrive in order, both ways', async () => {
    const rig = await startRig({}, false);
    const t = client(rig);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    const up: number[] = [];
    const down: number[] = [];
    rig.links[0]!.onDatagram = (d) => up.push(u32(d));
    t.onDatagram = (d) => down.push(u32(d));
    const n = 20_000; // 800 KiB each way: several POSTs and several capped GET answers
    for (let i = 0; i < n; i++) {
      const d = new Uint8Array(38);
      new DataView(d.buffer).setUint32(0, i);
      t.send(d);
      rig.links[0]!.send(d);
    }
    await until(() => up.length === n && down.length === n, 20_000);
    expect(up.every((v, i) => v === i)).toBe(true);
    expect(down.every((v, i) => v === i)).toBe(true);
  });

  it('client close is reported to the server link (DELETE)', async () => {
    const rig = await startRig();
    const t = client(rig);
    let clientClosed = '';
    t.onClose = (r) => (clientClosed = r);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    const got: Uint8Array[] = [];
    rig.links[0]!.onDatagram = (d) => got.push(d);
    t.send(new Uint8Array([9, 9])); // queued just before close: still delivered
    t.close();
    t.send(new Uint8Array([1])); // dropped, no throw
    await until(() => rig.closes.length === 1);
    expect(got).toEqual([new Uint8Array([9, 9])]);
    expect(rig.closes).toEqual(['closed by client']);
    expect(clientClosed).toBe('');
  });

  it('server close answers the held GET with 410 and is reported; the key is then forgotten', async () => {
    const rig = await startRig();
    const t = client(rig);
    const reasons: string[] = [];
    t.onClose = (r) => reasons.push(r);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    await new Promise((r) => setTimeout(r, 20)); // the GET is held
    rig.links[0]!.close();
    rig.links[0]!.send(new Uint8Array([1])); // dropped, no throw
    await until(() => reasons.length === 1);
    expect(reasons[0]).toMatch(/^closed by server/);
    expect(rig.closes).toEqual([]);

    const key = await openKey(rig);
    await until(() => rig.links.length === 2);
    rig.links[1]!.close();
    const res = await fetch(`${rig.poll}/${key}`);
    expect(res.status).toBe(404);
  });

  it('datagrams sent just before a server close still reach the client', async () => {
    const rig = await startRig();
    const t = client(rig);
    const reasons: string[] = [];
    const got: Uint8Array[] = [];
    t.onClose = (r) => reasons.push(r);
    t.onDatagram = (d) => got.push(d);
    await t.open(new AbortController().signal);
    await until(() => rig.links.length === 1);
    rig.links[0]!.send(new Uint8Array([4, 2]));
    rig.links[0]!.close();
    await until(() => reasons.length === 1);
    expect(got).toEqual([new Uint8Array([4, 2])]);
    expect(reasons[0]).toMatch(/^closed by server/);
  });

  it('a held GET ends with 204 after holdMs, and a new GET picks up later datagrams', async () => {
    const rig = await startRig({ holdMs: 100 });
    const key = await openKey(rig);
    const t0 = Date.now();
    const res = await fetch(`${rig.poll}/${key}`);
    expect(res.status).toBe(204);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
    const pending = fetch(`${rig.poll}/${key}`);
    await new Promise((r) => setTimeout(r, 20));
    rig.links[0]!.send(new Uint8Array([1, 2]));
    rig.links[0]!.send(new Uint8Array([3]));
    const r2 = await pending;
    expect(r2.status).toBe(200);
    expect(r2.headers.get('content-type')).toBe('application/octet-stream');
    expect(new Uint8Array(await r2.arrayBuffer())).toEqual(new Uint8Array([0, 2, 1, 2, 0, 1, 3]));
  });

  it('misuse gets clear status codes', async () => {
    const rig = await startRig({ maxBodyBytes: 4096 });
    const key = await openKey(rig);
    const url = `${rig.poll}/${key}`;
    const check = async (res: Response, status: number, text: RegExp): Promise<void> => {
      expect(res.status).toBe(status);
      expect(await res.text()).toMatch(text);
    };
    // unknown key, bad key shape, unknown route
    await check(await fetch(`${rig.poll}/${'0'.repeat(32)}`), 404, /unknown or expired/);
    await check(await fetch(`${rig.poll}/nothex`), 404, /no such polling route/);
    await check(await fetch(`${rig.poll}`), 404, /no such polling route/);
    // wrong method
    const r405 = await fetch(`${rig.poll}/open`);
    expect(r405.headers.get('allow')).toBe('POST, OPTIONS');
    await check(r405, 405, /use POST/);
    await check(await fetch(url, { method: 'PUT', body: 'x' }), 405, /PUT not allowed/);
    // malformed batch: a length past the end; nothing of it is delivered
    const got: Uint8Array[] = [];
    rig.links[0]!.onDatagram = (d) => got.push(d);
    await check(await fetch(url, { method: 'POST', body: new Uint8Array([0, 1, 7, 0, 9, 1]) }), 400, /malformed batch/);
    await check(await fetch(url, { method: 'POST', body: new Uint8Array([0, 1, 7, 0]) }), 400, /truncated/);
    // a datagram over the limit, a body over the limit
    await check(await fetch(url, { method: 'POST', body: encodeBatch([new Uint8Array(1265)]) }), 413, /exceeds the 1264-byte limit/);
    await check(await fetch(url, { method: 'POST', body: new Uint8Array(64 * 1024) }), 413, /body larger than 4096/);
    expect(got).toEqual([]);
    // a good batch after all that
    const ok = await fetch(url, { method: 'POST', body: encodeBatch([new Uint8Array([5]), new Uint8Array([6, 6])]) });
    expect(ok.status).toBe(204);
    expect(got).toEqual([new Uint8Array([5]), new Uint8Array([6, 6])]);
    // a second concurrent GET → 409, the first stays and still gets the data
    const first = fetch(url);
    await new Promise((r) => setTimeout(r, 30));
    await check(await fetch(url), 409, /another GET/);
    rig.links[0]!.send(new Uint8Array([8]));
    const r1 = await first;
    expect(r1.status).toBe(200);
    expect(new Uint8Array(await r1.arrayBuffer())).toEqual(new Uint8Array([0, 1, 8]));
    // CORS preflight
    const pre = await fetch(url, { method: 'OPTIONS' });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect(pre.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(rig.closes).toEqual([]);
  });

  it('a huge chunked body gets 413 without being read to the end', async () => {
    const rig = await startRig({ maxBodyBytes: 1024 });
    const key = await openKey(rig);
    // Raw request with no content-length: the server counts while reading and stops past the limit.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${rig.poll}/${key}`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      let sent = 0;
      const pump = (): void => {
        // Bounded: at most 64 MiB offered; the answer comes long before.
        while (sent < 64 << 20 && req.write(new Uint8Array(16 * 1024))) sent += 16 * 1024;
        if (sent < 64 << 20) req.once('drain', pump);
      };
      pump();
    });
    expect(status).toBe(413);
  });

  // Hold and abandon times run on an injected clock: the test moves it, the sweep (every ~12 ms) acts on it.
  it('an abandoned link is reclaimed with onClose("poll abandoned")', async () => {
    let now = 1_000_000;
    const rig = await startRig({ holdMs: 50, abandonMs: 150, clock: () => now });
    const key = await openKey(rig);
    now += 149;
    await new Promise((r) => setTimeout(r, 60)); // several sweeps: not abandoned yet
    expect(rig.closes).toEqual([]);
    now += 2;
    await until(() => rig.closes.length === 1, 3000);
    expect(rig.closes).toEqual(['poll abandoned']);
    expect((await fetch(`${rig.poll}/${key}`)).status).toBe(404);
  });

  it('a client that keeps polling is not abandoned', async () => {
    let now = 1_000_000;
    const rig = await startRig({ holdMs: 50, abandonMs: 150, clock: () => now });
    const t = client(rig);
    await t.open(new AbortController().signal);
    // Ten abandon periods pass; each held GET ends with 204 at its hold time and the client polls again.
    for (let i = 0; i < 30; i++) {
      now += 50;
      await new Promise((r) => setTimeout(r, 15));
    }
    expect(rig.closes).toEqual([]);
    expect(rig.links).toHaveLength(1);
  });

  it('a link whose client stops polling is closed past maxQueuedBytes', async () => {
    const rig = await startRig({ maxQueuedBytes: 10_000 });
    await openKey(rig);
    const link = rig.links[0]!;
    for (let i = 0; i < 20; i++) link.send(new Uint8Array(1000));
    expect(rig.closes).toEqual(['client not polling']);
  });

  it('a server close is reported when the client cannot reach it any more', async () => {
    const rig = await startRig();
    const t = client(rig);
    const reasons: string[] = [];
    t.onClose = (r) => reasons.push(r);
    await t.open(new AbortController().signal);
    await rig.stop();
    await until(() => reasons.length === 1);
    expect(reasons[0]).toMatch(/closed by server|poll failed/);
  });

  it('open rejects clearly when refused, and on abort', async () => {
    const rig = await startRig();
    const port = rig.base.port;
    await rig.stop();
    const t = new PollingClientTransport(new URL(`http://127.0.0.1:${port}`), rig.info);
    await expect(t.open(new AbortController().signal)).rejects.toThrow(/polling open to .* failed/);

    const rig2 = await startRig();
    const ctl = new AbortController();
    const p = client(rig2).open(ctl.signal);
    ctl.abort();
    await expect(p).rejects.toThrow(/aborted/);
    const pre = new AbortController();
    pre.abort();
    await expect(client(rig2).open(pre.signal)).rejects.toThrow(/aborted/);
  });

  it('stop() answers held GETs and later requests get 503', async () => {
    const rig = await startRig();
    const key = await openKey(rig);
    const held = fetch(`${rig.poll}/${key}`);
    await new Promise((r) => setTimeout(r, 20));
    await rig.transport.stop();
    expect((await held).status).toBe(410);
    const res = await fetch(`${rig.poll}/open`, { method: 'POST' });
    expect(res.status).toBe(503);
  });
});
