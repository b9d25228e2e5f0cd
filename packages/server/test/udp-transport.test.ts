import { createSocket, type Socket } from 'node:dgram';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { UdpClientTransport } from '@volley/client';
import type { ServerInfo } from '@volley/client';
import {
  connectTokenFromJson,
  FrameOpener,
  FrameSealer,
  mintConnectToken,
  readPn,
  UDP_COOKIE_BUCKET_MS,
  UDP_COOKIE_FRAME_SIZE,
  UDP_FRAMING_VERSION,
  UDP_HELLO_SIZE,
  UdpFrame,
  type ReceivedConnectToken,
} from '@volley/udp';
import { HttpHost } from '../src/http-host.js';
import type { TransportLink } from '../src/transport.js';
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
  /** The HTTP port's URL (connect tokens). */
  base: URL;
}

/** A UDP transport on an HTTP host of its own; each link echoes every datagram `replies` times. */
async function echoServer(options: UdpTransportOptions = {}, replies = 1): Promise<EchoServer> {
  const transport = new UdpTransport({ host: HOST, ...options });
  const links: TransportLink[] = [];
  const received: Uint8Array[] = [];
  const closes: string[] = [];
  const http = createServer();
  await new Promise<void>((r) => http.listen(0, HOST, () => r()));
  cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
  await transport.start({
    http: new HttpHost(http),
    host: HOST,
    mtu: 1200,
    onLink: (link) => {
      links.push(link);
      link.onDatagram = (d) => {
        received.push(d.slice());
        for (let i = 0; i < replies; i++) link.send(d);
      };
      link.onClose = (reason) => closes.push(reason);
    },
  });
  cleanups.push(() => transport.stop());
  const port = transport.info()['port'];
  expect(typeof port).toBe('number');
  const info: ServerInfo = { protocol: 1, transports: ['udp'], endpoints: { udp: transport.info() } };
  const a = http.address();
  const base = new URL(`http://${HOST}:${typeof a === 'object' && a ? a.port : 0}`);
  return { transport, links, received, closes, info, base };
}

function client(server: EchoServer): UdpClientTransport {
  const c = new UdpClientTransport(server.base, server.info);
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

/** A raw UDP socket on 127.0.0.1 that records everything it receives and counts what it sends. */
class RawSocket {
  readonly inbox: Buffer[] = [];
  bytesOut = 0;

  private constructor(readonly socket: Socket) {
    socket.on('message', (m) => this.inbox.push(m));
  }

  static async open(): Promise<RawSocket> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, HOST, () => r()));
    cleanups.push(() => new Promise<void>((r) => socket.close(() => r())));
    return new RawSocket(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  get bytesIn(): number {
    return this.inbox.reduce((n, m) => n + m.length, 0);
  }

  send(frame: Uint8Array, port: number): Promise<void> {
    this.bytesOut += frame.length;
    return new Promise((r) => this.socket.send(frame, port, HOST, () => r()));
  }
}

/** The nonce of our hand-made HELLOs (hello() with its default nonceByte). */
const NONCE = Buffer.alloc(8, 7);

function hello(size = UDP_HELLO_SIZE, nonceByte = 7): Buffer {
  const b = Buffer.alloc(size);
  b[0] = UdpFrame.Hello;
  if (size > 1) b[1] = UDP_FRAMING_VERSION;
  for (let i = 2; i < Math.min(10, size); i++) b[i] = nonceByte;
  return b;
}

async function fetchToken(s: EchoServer): Promise<ReceivedConnectToken> {
  const res = await fetch(new URL('/volley/udp/token', s.base), { method: 'POST' });
  expect(res.status).toBe(200);
  return connectTokenFromJson(await res.json());
}

/** A hand-made client link: a token, its sealers, and a cookie for `raw`'s address. */
interface RawLink {
  token: ReceivedConnectToken;
  sealer: FrameSealer;
  opener: FrameOpener;
  cookie: Buffer;
}

async function rawLink(s: EchoServer, raw: RawSocket): Promise<RawLink> {
  const token = await fetchToken(s);
  const before = raw.inbox.length;
  await raw.send(hello(), serverPort(s));
  await until(() => raw.inbox.length > before);
  const cookie = Buffer.from(raw.inbox.splice(before, 1)[0]!.subarray(9));
  return { token, sealer: new FrameSealer(token.clientKey, token.linkId), opener: new FrameOpener(token.serverKey, token.linkId), cookie };
}

function cookieEcho(l: RawLink, datagram: Uint8Array, cookie: Uint8Array = l.cookie, token: Uint8Array = l.token.token): Buffer {
  return l.sealer.seal(UdpFrame.CookieEcho, datagram, { prefix: Buffer.concat([NONCE, cookie, token]) });
}

function dataFrame(l: RawLink, datagram: Uint8Array): Buffer {
  return l.sealer.seal(UdpFrame.Data, datagram, { withLinkId: true });
}

/** Opens a server frame: its type and payload, or why not. */
function openFrame(l: RawLink, frame: Buffer): { type: number; payload: Uint8Array | string } {
  const type = frame[0]!;
  return { type, payload: l.opener.open(type as typeof UdpFrame.Data, readPn(frame, 1), frame.subarray(9)) };
}

function serverPort(s: EchoServer): number {
  return s.transport.info()['port'] as number;
}

describe('UdpTransport + UdpClientTransport', () => {
  it('binds the given host and reports the actual port and where tokens are', async () => {
    const s = await echoServer();
    expect(serverPort(s)).toBeGreaterThan(0);
    expect(s.transport.info()['token']).toBe('/volley/udp/token');
    expect(s.transport.kind).toBe('udp');
  });

  it('opens, then round-trips 1000 datagrams of sizes 1..1200 on one unreliable link, every frame sealed', async () => {
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
    expect(s.transport.counters.forged + s.transport.counters.replayed).toBe(0);
    expect(c.counters.dataSent).toBe(N);
    expect(c.counters.rejected).toBe(0);
  });

  it('a repeated COOKIE-ECHO (first reply lost) reaches the same link, never a second one', async () => {
    const s = await echoServer();
    const raw = await RawSocket.open();
    const port = serverPort(s);
    const l = await rawLink(s, raw);
    for (let i = 0; i < 3; i++) await raw.send(cookieEcho(l, fakeConnect(i)), port);
    await until(() => raw.inbox.length === 3);
    expect(s.links).toHaveLength(1);
    expect(s.received.map((d) => d[2])).toEqual([0, 1, 2]);
    for (const reply of raw.inbox) expect(openFrame(l, reply)).toEqual({ type: UdpFrame.Data, payload: expect.any(Uint8Array) as unknown });
    // And DATA for that link works too; the reply is sealed under the server key.
    await raw.send(dataFrame(l, new Uint8Array([9, 9])), port);
    await until(() => raw.inbox.length === 4);
    expect([...(openFrame(l, raw.inbox[3]!).payload as Uint8Array)]).toEqual([9, 9]);
    expect(s.transport.counters.linksCreated).toBe(1);
  });

  it('spoofing and amplification: nothing without a valid cookie, token and sealed datagram gets a reply or a link', async () => {
    let now = Date.now();
    const s = await echoServer({ clock: () => now, tokenTtlMs: 5_000 });
    const port = serverPort(s);
    const a = await RawSocket.open();
    const b = await RawSocket.open();

    // HELLO from A: the COOKIE reply is no larger than the HELLO, and nothing is allocated.
    const h = hello();
    await a.send(h, port);
    await until(() => a.inbox.length === 1);
    const cookieFrame = a.inbox[0]!;
    expect(cookieFrame.length).toBe(UDP_COOKIE_FRAME_SIZE);
    expect(cookieFrame.length).toBeLessThanOrEqual(h.length);
    expect(cookieFrame[0]).toBe(UdpFrame.Cookie);
    expect([...cookieFrame.subarray(1, 9)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
    expect(s.transport.linkCount).toBe(0);
    const la = await rawLink(s, a);
    const lb = await rawLink(s, b);

    // From B: a bare protocol CONNECT, COOKIE-ECHOs with a wrong cookie and with A's cookie, short HELLOs,
    // DATA for an unknown link id, an unknown frame type, an empty datagram, an oversize COOKIE-ECHO.
    await b.send(fakeConnect(), port);
    await b.send(cookieEcho(lb, fakeConnect(), Buffer.alloc(16, 0xaa)), port);
    await b.send(cookieEcho(lb, fakeConnect(), la.cookie), port);
    for (const size of [1, 2, 10, 32, UDP_HELLO_SIZE - 1]) await b.send(hello(size), port);
    await b.send(dataFrame(lb, fakeConnect()), port); // a link B never made
    await b.send(new Uint8Array([0xe4, 1, 2, 3]), port);
    await b.send(new Uint8Array(0), port);
    await b.send(cookieEcho(lb, fakeConnect(), udpCookie(new Uint8Array(32), HOST, b.port, 0, NONCE)), port); // guessed secret
    await b.send(cookieEcho(lb, new Uint8Array(1201)), port);
    await b.send(cookieEcho(lb, new Uint8Array(0)), port);
    // B's own cookie with a forged token, a token minted with another key, and a forged datagram:
    const forgedToken = Buffer.from(lb.token.token);
    forgedToken[40] = forgedToken[40]! ^ 1;
    await b.send(cookieEcho(lb, fakeConnect(), lb.cookie, forgedToken), port);
    await b.send(cookieEcho(lb, fakeConnect(), lb.cookie, mintConnectToken(new Uint8Array(32), now + 5_000).token), port);
    const tampered = cookieEcho(lb, fakeConnect());
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0x80;
    await b.send(tampered, port);
    // A protocol CONNECT with no framing, from A:
    await a.send(fakeConnect(), port);

    await sleep(300);
    expect(b.inbox).toHaveLength(0);
    expect(a.inbox).toHaveLength(1);
    expect(s.links).toHaveLength(0);
    const k = s.transport.counters;
    expect(k.linksCreated).toBe(0);
    expect(k.cookiesSent).toBe(3);
    expect(k.badCookie).toBe(3);
    expect(k.shortHello).toBe(5);
    expect(k.unknownLink).toBe(1);
    expect(k.oversize).toBe(1);
    expect(k.malformed).toBe(5); // bare CONNECT ×2, 0xE4, empty, empty echo
    expect(k.badToken).toBe(2);
    expect(k.forged).toBe(1);

    // An expired token does not open, even with a good cookie and datagram.
    now += 5_000;
    await b.send(cookieEcho(lb, fakeConnect()), port);
    await until(() => k.badToken === 3);
    expect(s.links).toHaveLength(0);

    // Control: A's cookie, a fresh token and a sealed CONNECT from A do create the link.
    const fresh = await rawLink(s, a);
    await a.send(cookieEcho(fresh, fakeConnect()), port);
    await until(() => a.inbox.length === 2);
    expect(s.links).toHaveLength(1);
  });

  it('one token admits one link: the same token with a second cookie creates nothing', async () => {
    const s = await echoServer();
    const port = serverPort(s);
    const a = await RawSocket.open();
    const b = await RawSocket.open();
    const la = await rawLink(s, a);
    await a.send(cookieEcho(la, fakeConnect()), port);
    await until(() => s.links.length === 1);
    // B replays A's token with its own cookie (as someone who saw A's COOKIE-ECHO could): that is A's link id,
    // so the frame must authenticate under A's key, which B does not have.
    const lb = await rawLink(s, b);
    const stolen: RawLink = { ...lb, token: la.token, sealer: new FrameSealer(lb.token.clientKey, la.token.linkId) };
    for (let i = 0; i < 3; i++) await b.send(cookieEcho(stolen, fakeConnect()), port);
    await until(() => s.transport.counters.forged + s.transport.counters.replayed === 3);
    expect(s.received).toHaveLength(1);
    // After A's link is gone, its token still cannot start a second one.
    // (From a third address, whose cookie admitted nothing yet.)
    s.links[0]!.close();
    const c = await RawSocket.open();
    await c.send(cookieEcho({ ...la, cookie: (await rawLink(s, c)).cookie }, fakeConnect()), port);
    await until(() => s.transport.counters.tokenSpent === 1);
    expect(s.transport.counters.linksCreated).toBe(1);
    expect(b.inbox).toHaveLength(0);
  });

  it('tampered and replayed frames never reach the core', async () => {
    const s = await echoServer();
    const port = serverPort(s);
    const a = await RawSocket.open();
    const l = await rawLink(s, a);
    await a.send(cookieEcho(l, fakeConnect()), port);
    await until(() => s.received.length === 1);
    const good = dataFrame(l, new Uint8Array([1, 2, 3]));
    await a.send(good, port);
    await until(() => s.received.length === 2);
    await a.send(good, port); // replay
    const flipped = Buffer.from(dataFrame(l, new Uint8Array([4, 5, 6])));
    flipped[flipped.length - 20] = flipped[flipped.length - 20]! ^ 1;
    await a.send(flipped, port);
    const wrongType = Buffer.from(dataFrame(l, new Uint8Array(8)));
    wrongType[0] = UdpFrame.Response; // a DATA cannot pass for a RESPONSE
    await a.send(wrongType, port);
    await until(() => s.transport.counters.replayed === 1 && s.transport.counters.forged === 2);
    await a.send(dataFrame(l, new Uint8Array([7])), port); // the link still works
    await until(() => s.received.length === 3);
    expect(s.received.map((d) => [...d])).toEqual([[...fakeConnect()], [1, 2, 3], [7]]);
  });

  it('accepts a cookie in its own and the next time bucket, not later', async () => {
    let now = 1_000 * UDP_COOKIE_BUCKET_MS + 1;
    const secret = new Uint8Array(32).fill(3);
    const s = await echoServer({ clock: () => now, cookieSecret: secret, tokenTtlMs: 10 * UDP_COOKIE_BUCKET_MS });
    const port = serverPort(s);
    const a = await RawSocket.open();
    const l = await rawLink(s, a);
    expect(l.cookie.equals(udpCookie(secret, HOST, a.port, 1_000, NONCE))).toBe(true);

    now += 2 * UDP_COOKIE_BUCKET_MS; // two buckets on: expired
    await a.send(cookieEcho(l, fakeConnect()), port);
    await sleep(100);
    expect(s.links).toHaveLength(0);
    expect(s.transport.counters.badCookie).toBe(1);

    now -= UDP_COOKIE_BUCKET_MS; // the next bucket: still good
    await a.send(cookieEcho(l, fakeConnect()), port);
    await until(() => a.inbox.length === 1);
    expect(s.links).toHaveLength(1);
  });

  it('address change: the link moves to a new local socket once it answers a challenge, same link object', async () => {
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
    for (let i = 0; i < 20 && link.remote !== `${HOST}:${c.localPort}`; i++) {
      c.send(new Uint8Array([i, 1, 2]));
      await sleep(120);
    }
    expect(link.remote).toBe(`${HOST}:${c.localPort}`);
    expect(c.counters.challengesAnswered).toBeGreaterThanOrEqual(1);
    for (let i = 0; i < 20; i++) c.send(new Uint8Array([i, 3, 4]));
    await until(() => got.filter((d) => d[1] === 3).length === 20);
    expect(s.links).toHaveLength(1);
    expect(s.links[0]).toBe(link);
    expect(s.transport.counters.addressChanges).toBe(1);
    expect(s.transport.counters.linksCreated).toBe(1);
  });

  it('a client claiming a victim address gets the victim at most 3× the bytes sent from there, and only challenges', async () => {
    const s = await echoServer({}, 20); // every datagram answered 20 times: a download
    const port = serverPort(s);
    const a = await RawSocket.open();
    const victim = await RawSocket.open();
    const l = await rawLink(s, a);
    await a.send(cookieEcho(l, fakeConnect()), port);
    await until(() => a.inbox.length === 20);
    // Authentic, fresh frames sent from the victim's address (a spoofed source): delivered, but every reply
    // still goes to A, and the victim only ever sees CHALLENGEs, within the amplification limit.
    const big = new Uint8Array(1200);
    for (let i = 0; i < 30; i++) {
      await victim.send(dataFrame(l, big), port);
      if (i % 10 === 9) await sleep(110); // lets the challenge retry timer pass
    }
    // A spoofed copy of one of A's frames, and a malformed frame with A's link id, from the victim.
    const copy = dataFrame(l, new Uint8Array([1]));
    await a.send(copy, port);
    await victim.send(copy, port);
    const junk = Buffer.alloc(10);
    junk[0] = UdpFrame.Data;
    Buffer.from(l.token.linkId).copy(junk, 1);
    await victim.send(junk, port);
    await until(() => s.received.length === 32);
    await sleep(200);
    expect(a.inbox.length).toBeGreaterThan(20 * 2); // the replies went to A (some may overflow its socket buffer)
    expect(victim.inbox.length).toBeGreaterThan(0);
    for (const m of victim.inbox) expect(openFrame(l, m).type).toBe(UdpFrame.Challenge);
    expect(victim.bytesIn).toBeLessThanOrEqual(3 * victim.bytesOut);
    expect(victim.bytesIn).toBeLessThan(1_000);
    expect(s.links[0]!.remote).toBe(`${HOST}:${a.port}`);
    expect(s.transport.counters.addressChanges).toBe(0);
    expect(s.transport.counters.replayed).toBe(1);
    expect(s.transport.counters.malformed).toBe(1);
  });

  it('binds the sealed CONNECT to its cookie and token, and starts the server’s packet numbers at random', async () => {
    const s = await echoServer();
    const port = serverPort(s);
    const a = await RawSocket.open();
    const b = await RawSocket.open();
    const la = await rawLink(s, a);
    const lb = await rawLink(s, b);
    // A's sealed CONNECT behind B's cookie (as an observer would replay it from an address it can see): refused.
    const echo = cookieEcho(la, fakeConnect());
    const moved = Buffer.concat([echo.subarray(0, 9), lb.cookie, echo.subarray(25)]);
    await b.send(moved, port);
    await until(() => s.transport.counters.forged === 1);
    expect(s.links).toHaveLength(0);
    // The real one works, and the server's first frame is numbered at random (not 0).
    await a.send(echo, port);
    await until(() => a.inbox.length === 1);
    expect(readPn(a.inbox[0]!, 1)).toBeGreaterThan(0);
    expect(openFrame(la, a.inbox[0]!).type).toBe(UdpFrame.Data);
  });

  it('refuses tokens that claim to live longer than tokenTtlMs', async () => {
    const tokenKey = new Uint8Array(32).fill(9);
    const s = await echoServer({ tokenKey, tokenTtlMs: 10_000 });
    const a = await RawSocket.open();
    const l = await rawLink(s, a);
    const long = mintConnectToken(tokenKey, Date.now() + 3_600_000); // a backend's hour-long token
    const sealer = new FrameSealer(long.clientKey, long.linkId);
    await a.send(sealer.seal(UdpFrame.CookieEcho, fakeConnect(), { prefix: Buffer.concat([NONCE, l.cookie, long.token]) }), serverPort(s));
    await until(() => s.transport.counters.badToken === 1);
    expect(s.links).toHaveLength(0);
  });

  it('limits connect tokens and new links per source', async () => {
    const s = await echoServer({ tokensPerSecondPerSource: 2, linksPerSecondPerSource: 1 });
    const url = new URL('/volley/udp/token', s.base);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await fetch(url, { method: 'POST' })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429]); // a burst of 2 s: 4
    expect(s.transport.counters.tokensRefused).toBe(2);
    // Links: a burst of 2, then one a second; every COOKIE-ECHO here is valid, from its own socket.
    const s2 = await echoServer({ linksPerSecondPerSource: 1 });
    for (let i = 0; i < 4; i++) {
      const raw = await RawSocket.open();
      const l = await rawLink(s2, raw);
      await raw.send(cookieEcho(l, fakeConnect()), serverPort(s2));
    }
    await until(() => s2.transport.counters.linksCreated + s2.transport.counters.linksRateLimited === 4);
    expect(s2.transport.counters.linksCreated).toBe(2);
    expect(s2.transport.counters.linksRateLimited).toBe(2);
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
    await c2.open(AbortSignal.timeout(5000)); // cookies and tokens are stateless, so still given out
    for (let i = 0; i < 5; i++) c2.send(fakeConnect());
    await sleep(200);
    expect(got).toHaveLength(0);
    expect(s.links).toHaveLength(1);
    expect(s.transport.counters.full).toBe(5);
  });

  it('the token route: POST only, a fresh link id and keys each time', async () => {
    const s = await echoServer();
    const url = new URL('/volley/udp/token', s.base);
    expect((await fetch(url)).status).toBe(405);
    const t1 = await fetchToken(s);
    const t2 = await fetchToken(s);
    expect(Buffer.from(t1.linkId).equals(Buffer.from(t2.linkId))).toBe(false);
    expect(Buffer.from(t1.clientKey).equals(Buffer.from(t2.clientKey))).toBe(false);
    expect(t1.expiresIn).toBe(30_000);
    expect(s.transport.counters.tokensIssued).toBe(2);
    expect(() => connectTokenFromJson({ ...t1, token: 'AAAA' })).toThrow(/token is not 109 bytes/);
  });

  it('open() retries HELLO until its signal aborts, then rejects and frees the socket', async () => {
    const s = await echoServer(); // for its token route
    const silent = await RawSocket.open(); // a "server" that never answers
    const info: ServerInfo = { protocol: 1, transports: ['udp'], endpoints: { udp: { port: silent.port } } };
    const c = new UdpClientTransport(s.base, info);
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

  it('open() rejects without a UDP endpoint, without a token, and when closed while opening', async () => {
    const none = new UdpClientTransport(new URL(`http://${HOST}:1`), { protocol: 1, transports: [], endpoints: {} });
    await expect(none.open(new AbortController().signal)).rejects.toThrow(/no UDP port/);
    const silent = await RawSocket.open();
    const info: ServerInfo = { protocol: 1, transports: ['udp'], endpoints: { udp: { port: silent.port } } };
    const noToken = new UdpClientTransport(new URL(`http://${HOST}:1`), info);
    await expect(noToken.open(AbortSignal.timeout(5000))).rejects.toThrow(/cannot get a connect token/);
    const s = await echoServer();
    const c = new UdpClientTransport(s.base, info);
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
