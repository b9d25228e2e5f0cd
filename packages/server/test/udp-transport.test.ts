import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpClientTransport } from '@volley/client';
import type { ServerInfo } from '@volley/client';
import { HttpHost } from '../src/http-host.js';
import type { TransportLink } from '../src/transport.js';
import { UDP_COOKIE_BUCKET_MS, UDP_COOKIE_FRAME_SIZE, UDP_HELLO_SIZE, UdpFrame } from '@volley/protocol';
import { UdpTransport, udpCookie, type UdpTransportOptions } from '../src/transports/udp.js';

const HOST = '127.0.0.1';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface EchoServer {
  transport: UdpTransport;
  links: TransportLink[];
  received: Uint8Array[];
  closes: string[];
  info: ServerInfo;
}

async function echoServer(options: UdpTransportOptions = {}): Promise<EchoServer> {
  const transport = new UdpTransport({ host: HOST, ...options });
  const links: TransportLink[] = [];
  const received: Uint8Array[] = [];
  const closes: string[] = [];
  await transport.start({
    http: new HttpHost(createServer()), // never listens: UDP does not need it
    host: HOST,
    mtu: 1200,
    onLink: (link) => {
      links.push(link);
      link.onDatagram = (d) => {
        received.push(d.slice());
        link.send(d);
      };
      link.onClose = (reason) => closes.push(reason);
    },
  });
  cleanups.push(() => transport.stop());
  const port = transport.info()['port'];
  expect(typeof port).toBe('number');
  const info: ServerInfo = { protocol: 1, transports: ['udp'], endpoints: { udp: transport.info() } };
  return { transport, links, received, closes, info };
}

function client(server: EchoServer): UdpClientTransport {
  const c = new UdpClientTransport(new URL(`http://${HOST}:1`), server.info);
  cleanups.push(() => c.close());
  return c;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await sleep(5);
  }
}

/** A CONNECT-looking 32-byte protocol datagram (control prefix 01, type 1). */
function fakeConnect(tag = 0): Uint8Array {
  const d = new Uint8Array(32);
  d[0] = 0x41;
  d[1] = 1;
  d[2] = tag;
  return d;
}

/** Opens the client and repeats the first datagram (as the core's CONNECT retries do) until echoed. */
async function establish(c: UdpClientTransport): Promise<Uint8Array[]> {
  const got: Uint8Array[] = [];
  c.onDatagram = (d) => got.push(d.slice());
  await c.open(AbortSignal.timeout(5000));
  for (let i = 0; i < 40 && got.length === 0; i++) {
    c.send(fakeConnect());
    await sleep(50);
  }
  expect(got.length).toBeGreaterThan(0);
  expect(c.isEstablished).toBe(true);
  return got;
}

/** A raw UDP socket on 127.0.0.1 that records everything it receives. */
async function rawSocket(): Promise<{ socket: Socket; inbox: Buffer[]; port: number }> {
  const socket = createSocket('udp4');
  const inbox: Buffer[] = [];
  socket.on('message', (m) => inbox.push(m));
  await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
  cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
  return { socket, inbox, port: socket.address().port };
}

function sendRaw(socket: Socket, frame: Uint8Array, port: number): Promise<void> {
  return new Promise((r) => socket.send(frame, port, HOST, () => r()));
}

function hello(size = UDP_HELLO_SIZE, nonceByte = 7): Buffer {
  const b = Buffer.alloc(size);
  b[0] = UdpFrame.Hello;
  if (size > 1) b[1] = 1;
  for (let i = 2; i < Math.min(10, size); i++) b[i] = nonceByte;
  return b;
}

function cookieEcho(cookie: Uint8Array, linkId: bigint, datagram: Uint8Array): Buffer {
  const b = Buffer.alloc(25 + datagram.length);
  b[0] = UdpFrame.CookieEcho;
  b.set(cookie, 1);
  b.writeBigUInt64BE(linkId, 17);
  b.set(datagram, 25);
  return b;
}

function dataFrame(linkId: bigint, datagram: Uint8Array): Buffer {
  const b = Buffer.alloc(9 + datagram.length);
  b[0] = UdpFrame.Data;
  b.writeBigUInt64BE(linkId, 1);
  b.set(datagram, 9);
  return b;
}

function serverPort(s: EchoServer): number {
  return s.transport.info()['port'] as number;
}

describe('UdpTransport + UdpClientTransport', () => {
  it('binds the given host and reports the actual port', async () => {
    const s = await echoServer();
    expect(serverPort(s)).toBeGreaterThan(0);
    expect(s.transport.kind).toBe('udp');
  });

  it('opens, then round-trips 1000 datagrams of sizes 1..1200 on one unreliable link', async () => {
    const s = await echoServer();
    const c = client(s);
    expect(c.reliable).toBe(false);
    const first = await establish(c);
    expect(first[0]).toEqual(fakeConnect());
    expect(s.links).toHaveLength(1);
    expect(s.links[0]!.kind).toBe('udp');
    expect(s.links[0]!.reliable).toBe(false);
    expect(s.links[0]!.remote).toBe(`${HOST}:${c.localPort}`);

    const N = 1000;
    const sizes = Array.from({ length: N }, (_, i) => 1 + Math.round((i * 1199) / (N - 1)));
    expect(sizes[0]).toBe(1);
    expect(sizes[N - 1]).toBe(1200);
    const payload = (i: number): Uint8Array => {
      const d = new Uint8Array(sizes[i]!);
      for (let k = 0; k < d.length; k++) d[k] = (i * 31 + k * 7) & 0xff;
      if (d.length >= 2) {
        d[0] = i >> 8;
        d[1] = i & 0xff;
      }
      return d;
    };
    const echoed: Uint8Array[] = [];
    c.onDatagram = (d) => echoed.push(d.slice());
    const WINDOW = 50; // stays well inside the loopback socket buffers
    for (let i = 0; i < N; i += WINDOW) {
      for (let j = i; j < Math.min(N, i + WINDOW); j++) c.send(payload(j));
      await until(() => echoed.length >= Math.min(N, i + WINDOW));
    }
    expect(echoed).toHaveLength(N);
    const wrong = echoed.filter((d, i) => !Buffer.from(d).equals(payload(i))); // loopback keeps the order
    expect(wrong).toHaveLength(0);
    expect(s.links).toHaveLength(1);
    expect(s.transport.counters.linksCreated).toBe(1);
    expect(c.counters.dataSent).toBe(N);
  });

  it('a repeated COOKIE-ECHO (first reply lost) reaches the same link, never a second one', async () => {
    const s = await echoServer();
    const raw = await rawSocket();
    const port = serverPort(s);
    await sendRaw(raw.socket, hello(), port);
    await until(() => raw.inbox.length === 1);
    const cookie = raw.inbox[0]!.subarray(1 + 8);
    const id = 0x0123456789abcdefn;
    for (let i = 0; i < 3; i++) await sendRaw(raw.socket, cookieEcho(cookie, id, fakeConnect(i)), port);
    await until(() => raw.inbox.length === 4);
    expect(s.links).toHaveLength(1);
    expect(s.received.map((d) => d[2])).toEqual([0, 1, 2]);
    for (const reply of raw.inbox.slice(1)) expect(reply[0]).toBe(UdpFrame.Data);
    // And DATA with that link id works too.
    await sendRaw(raw.socket, dataFrame(id, new Uint8Array([9, 9])), port);
    await until(() => raw.inbox.length === 5);
    expect([...raw.inbox[4]!]).toEqual([UdpFrame.Data, 9, 9]);
    expect(s.transport.counters.linksCreated).toBe(1);
  });

  it('spoofing and amplification: nothing without a valid cookie gets a reply or allocates a link', async () => {
    const s = await echoServer();
    const port = serverPort(s);
    const a = await rawSocket();
    const b = await rawSocket();

    // HELLO from A: the COOKIE reply is no larger than the HELLO, and nothing is allocated.
    const h = hello();
    await sendRaw(a.socket, h, port);
    await until(() => a.inbox.length === 1);
    const cookieFrame = a.inbox[0]!;
    expect(cookieFrame.length).toBe(UDP_COOKIE_FRAME_SIZE);
    expect(cookieFrame.length).toBeLessThanOrEqual(h.length);
    expect(cookieFrame[0]).toBe(UdpFrame.Cookie);
    expect([...cookieFrame.subarray(1, 9)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
    const cookieA = cookieFrame.subarray(9);
    expect(s.transport.linkCount).toBe(0);

    // From B: a bare protocol CONNECT, COOKIE-ECHOs with a wrong cookie and with A's cookie, short HELLOs,
    // DATA for an unknown link id, an unknown frame type, an empty datagram, an oversize COOKIE-ECHO.
    await sendRaw(b.socket, fakeConnect(), port);
    await sendRaw(b.socket, cookieEcho(new Uint8Array(16).fill(0xaa), 1n, fakeConnect()), port);
    await sendRaw(b.socket, cookieEcho(cookieA, 2n, fakeConnect()), port);
    for (const size of [1, 2, 10, 32, UDP_HELLO_SIZE - 1]) await sendRaw(b.socket, hello(size), port);
    await sendRaw(b.socket, dataFrame(3n, fakeConnect()), port);
    await sendRaw(b.socket, new Uint8Array([0xe4, 1, 2, 3]), port);
    await sendRaw(b.socket, new Uint8Array(0), port);
    const cookieB = udpCookie(new Uint8Array(32), HOST, b.port, 0); // made with a guessed secret
    await sendRaw(b.socket, cookieEcho(cookieB, 4n, fakeConnect()), port);
    await sendRaw(b.socket, cookieEcho(cookieA, 5n, new Uint8Array(1201)), port);
    await sendRaw(b.socket, cookieEcho(cookieA, 6n, new Uint8Array(0)), port);
    // A's own cookie with a protocol CONNECT but no COOKIE-ECHO framing, from A:
    await sendRaw(a.socket, fakeConnect(), port);

    await sleep(300);
    expect(b.inbox).toHaveLength(0);
    expect(a.inbox).toHaveLength(1);
    expect(s.links).toHaveLength(0);
    expect(s.transport.linkCount).toBe(0);
    const k = s.transport.counters;
    expect(k.linksCreated).toBe(0);
    expect(k.cookiesSent).toBe(1);
    expect(k.badCookie).toBe(3);
    expect(k.shortHello).toBe(5);
    expect(k.unknownLink).toBe(1);
    expect(k.oversize).toBe(1);
    expect(k.malformed).toBe(5); // bare CONNECT ×2, 0xE4, empty, empty echo

    // Control: A's cookie from A does create the link (so the frames above were well aimed).
    await sendRaw(a.socket, cookieEcho(cookieA, 7n, fakeConnect()), port);
    await until(() => a.inbox.length === 2);
    expect(s.links).toHaveLength(1);
  });

  it('accepts a cookie in its own and the next time bucket, not later', async () => {
    let now = 1_000 * UDP_COOKIE_BUCKET_MS + 1;
    const secret = new Uint8Array(32).fill(3);
    const s = await echoServer({ clock: () => now, cookieSecret: secret });
    const port = serverPort(s);
    const a = await rawSocket();
    await sendRaw(a.socket, hello(), port);
    await until(() => a.inbox.length === 1);
    const cookie = a.inbox[0]!.subarray(9);
    expect(Buffer.from(cookie).equals(udpCookie(secret, HOST, a.port, 1_000))).toBe(true);

    now += 2 * UDP_COOKIE_BUCKET_MS; // two buckets on: expired
    await sendRaw(a.socket, cookieEcho(cookie, 1n, fakeConnect()), port);
    await sleep(100);
    expect(s.links).toHaveLength(0);
    expect(s.transport.counters.badCookie).toBe(1);

    now -= UDP_COOKIE_BUCKET_MS; // the next bucket: still good
    await sendRaw(a.socket, cookieEcho(cookie, 1n, fakeConnect()), port);
    await until(() => a.inbox.length === 2);
    expect(s.links).toHaveLength(1);
  });

  it('address change: the link follows the link id to a new local socket, same link object', async () => {
    const s = await echoServer();
    const c = client(s);
    await establish(c);
    const link = s.links[0]!;
    const oldPort = c.localPort;
    expect(link.remote).toBe(`${HOST}:${oldPort}`);

    await c.rebind();
    expect(c.localPort).not.toBe(oldPort);
    const got: Uint8Array[] = [];
    c.onDatagram = (d) => got.push(d.slice());
    for (let i = 0; i < 20; i++) c.send(new Uint8Array([i, 1, 2]));
    await until(() => got.length === 20);
    expect(got[19]).toEqual(new Uint8Array([19, 1, 2]));
    expect(s.links).toHaveLength(1);
    expect(s.links[0]).toBe(link);
    expect(link.remote).toBe(`${HOST}:${c.localPort}`);
    expect(s.transport.counters.addressChanges).toBe(1);
    expect(s.transport.counters.linksCreated).toBe(1);
  });

  it('rebind before the first server datagram refreshes the cookie for the new address', async () => {
    const s = await echoServer();
    const c = client(s);
    const got: Uint8Array[] = [];
    c.onDatagram = (d) => got.push(d.slice());
    await c.open(AbortSignal.timeout(5000));
    await c.rebind();
    for (let i = 0; i < 40 && got.length === 0; i++) {
      c.send(fakeConnect());
      await sleep(50);
    }
    expect(got.length).toBeGreaterThan(0);
    expect(s.links).toHaveLength(1);
    expect(s.links[0]!.remote).toBe(`${HOST}:${c.localPort}`);
  });

  it('link.close() forgets the link id; idle links close with onClose("idle")', async () => {
    // Idle time runs on an injected clock (the sweep, every 100 ms here, acts on it).
    let now = Date.now();
    const s = await echoServer({ idleMs: 400, clock: () => now });
    const c1 = client(s);
    await establish(c1);
    const c2 = client(s);
    await establish(c2);
    expect(s.links).toHaveLength(2);

    s.links[0]!.close();
    expect(s.transport.linkCount).toBe(1);
    const before = s.transport.counters.unknownLink;
    c1.send(new Uint8Array([1]));
    await until(() => s.transport.counters.unknownLink === before + 1);

    await sleep(150);
    expect(s.closes).toEqual([]); // nothing is idle until the clock says so
    now += 400;
    await until(() => s.closes.length === 1, 2000);
    expect(s.closes).toEqual(['idle']); // only c2's link: c1's was closed by us, no onClose
    expect(s.transport.linkCount).toBe(0);
    expect(s.transport.counters.idleClosed).toBe(1);
  });

  it('maxLinks: COOKIE-ECHOs for new links past it are dropped', async () => {
    const s = await echoServer({ maxLinks: 1 });
    await establish(client(s));
    const c2 = client(s);
    const got: Uint8Array[] = [];
    c2.onDatagram = (d) => got.push(d);
    await c2.open(AbortSignal.timeout(5000)); // cookies are stateless, so still given out
    for (let i = 0; i < 5; i++) c2.send(fakeConnect());
    await sleep(200);
    expect(got).toHaveLength(0);
    expect(s.links).toHaveLength(1);
    expect(s.transport.counters.full).toBe(5);
  });

  it('open() retries HELLO until its signal aborts, then rejects and frees the socket', async () => {
    const silent = await rawSocket(); // a "server" that never answers
    const info: ServerInfo = { protocol: 1, transports: ['udp'], endpoints: { udp: { port: silent.port } } };
    const c = new UdpClientTransport(new URL(`http://${HOST}:1`), info);
    cleanups.push(() => c.close());
    const t0 = Date.now();
    await expect(c.open(AbortSignal.timeout(700))).rejects.toThrow(/aborted/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(650);
    expect(silent.inbox.length).toBeGreaterThanOrEqual(3); // 0, 250, 625 ms
    expect(silent.inbox.length).toBeLessThanOrEqual(4);
    for (const m of silent.inbox) expect(m.length).toBe(UDP_HELLO_SIZE);
    expect(c.localPort).toBeUndefined();
    c.send(fakeConnect()); // dropped, never throws
  });

  it('open() rejects without a UDP endpoint, and when closed while opening', async () => {
    const none = new UdpClientTransport(new URL(`http://${HOST}:1`), { protocol: 1, transports: [], endpoints: {} });
    await expect(none.open(new AbortController().signal)).rejects.toThrow(/no UDP port/);
    const silent = await rawSocket();
    const c = new UdpClientTransport(new URL(`http://${HOST}:1`), {
      protocol: 1,
      transports: ['udp'],
      endpoints: { udp: { port: silent.port } },
    });
    const p = c.open(new AbortController().signal);
    setTimeout(() => c.close(), 50);
    await expect(p).rejects.toThrow(/closed/);
  });

  it('stop() resolves once the socket is closed, and links go quiet', async () => {
    const s = await echoServer();
    const c = client(s);
    await establish(c);
    await s.transport.stop();
    expect(s.transport.linkCount).toBe(0);
    s.links[0]!.send(new Uint8Array([1])); // dropped, never throws
    await s.transport.stop(); // idempotent
  });
});
