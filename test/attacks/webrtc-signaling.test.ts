/**
 * Hostile clients against WebRTC signaling (geckos.io's /.wrtc/v2 routes on the HTTP port, docs/transports.md,
 * "WebRTC"): offers sent all at once, one source holding every pending slot, an answer listing third-party
 * candidates (STUN amplification), request floods, and malformed answers. Everything is on loopback: the
 * server on 127.0.0.1, hostile "sources" are TCP connections bound to other loopback addresses
 * (127.0.0.2 …), and the "third parties" are UDP sockets this test binds on 127.0.0.2 … 127.0.0.51. Every
 * request has a timeout, every loop a count, and every server is closed in afterEach.
 *
 * The figures for the record are printed at the end. The concurrent-offers case takes its size from
 * VOLLEY_TEST_OFFERS and VOLLEY_TEST_MAX_PENDING (default 400 offers, maxPending 64), e.g. 1000 and 256.
 */

import dgram from 'node:dgram';
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { installNodeWebRTC, WebRtcClientTransport, type ServerInfo } from '@volley/client';
import { Server, WebRtcTransport, type WebRtcTransportOptions } from '@volley/server';
import { sleep, waitUntil } from './raw-http.js';

const HOST = '127.0.0.1';
const SIGNALING = '/.wrtc/v2';

const servers: Server[] = [];
const clients: WebRtcClientTransport[] = [];
const pcs: RTCPeerConnection[] = [];
const sockets: dgram.Socket[] = [];
const records: string[] = [];
let OriginalPC: typeof RTCPeerConnection | undefined;

beforeAll(async () => {
  await installNodeWebRTC();
  const Base = globalThis.RTCPeerConnection;
  OriginalPC = Base;
  // libdatachannel binds 0.0.0.0 unless told otherwise: keep the test's own peer connections on loopback.
  globalThis.RTCPeerConnection = class extends Base {
    constructor(config?: RTCConfiguration) {
      super({ ...config, bindAddress: HOST } as RTCConfiguration);
    }
  };
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const pc of pcs.splice(0)) pc.close();
  for (const s of sockets.splice(0)) s.close();
  for (const s of servers.splice(0)) await s.close();
});

afterAll(() => {
  if (OriginalPC) globalThis.RTCPeerConnection = OriginalPC;
  if (records.length) console.log(`[webrtc-signaling] ${records.join('; ')}`);
});

/** A real Server on 127.0.0.1 offering WebRTC only, with `options`. */
async function serve(options: WebRtcTransportOptions): Promise<{ server: Server; transport: WebRtcTransport; port: number }> {
  const transport = new WebRtcTransport({ bindAddress: HOST, iceServers: [], ...options });
  const server = new Server({ host: HOST, port: 0, udpPort: 0, transports: [transport] });
  servers.push(server);
  await server.listen();
  return { server, transport, port: server.address().port };
}

interface Reply {
  status: number;
  body: string;
}

/**
 * One HTTP request to the server at 127.0.0.1:`port` from the loopback address `from` (its own TCP
 * connection); status 0 if it failed or took over 10 s.
 */
function request(port: number, method: string, path: string, from = HOST, body?: string): Promise<Reply> {
  return new Promise((resolve) => {
    const req = http.request({ host: HOST, port, method, path, localAddress: from, agent: false, timeout: 10_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end(body);
  });
}

const offer = (port: number, from = HOST): Promise<Reply> => request(port, 'POST', `${SIGNALING}/connections`, from);

function offerOf(reply: Reply): { id: string; sdp: string } {
  const o = JSON.parse(reply.body) as { id: string; localDescription: { sdp: string } };
  return { id: o.id, sdp: o.localDescription.sdp };
}

function tally(replies: Reply[]): Record<number, number> {
  const t: Record<number, number> = {};
  for (const r of replies) t[r.status] = (t[r.status] ?? 0) + 1;
  return t;
}

/** Peer connections the transport holds in setup right now (taken over from geckos, no link yet). */
function inSetup(transport: WebRtcTransport): number {
  const peers = (transport as unknown as { peers: Map<string, { link: unknown }> }).peers;
  let n = 0;
  for (const p of peers.values()) if (!p.link) n++;
  return n;
}

/** A real answer to `offerSdp` from a local peer connection (never connected: nothing is polled). */
async function answerTo(offerSdp: string): Promise<string> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  pcs.push(pc);
  await pc.setRemoteDescription({ type: 'offer', sdp: offerSdp });
  await pc.setLocalDescription(await pc.createAnswer());
  return pc.localDescription!.sdp;
}

/** `sdp` without its own candidates, with `candidates` (a=candidate:… values) in the media section instead. */
function withCandidates(sdp: string, candidates: string[]): string {
  const lines = sdp.split(/\r?\n/).filter((l) => l !== '' && !l.startsWith('a=candidate:') && l !== 'a=end-of-candidates');
  return [...lines, ...candidates.map((c) => `a=candidate:${c}`), 'a=end-of-candidates', ''].join('\r\n');
}

async function bindUdp(address: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, address, () => resolve());
  });
  return s;
}

/** A STUN message (RFC 5389): first two bits 0, magic cookie at bytes 4..7. */
function isStun(d: Buffer): boolean {
  return d.length >= 20 && (d[0]! & 0xc0) === 0 && d.readUInt32BE(4) === 0x2112a442;
}

describe('pending peer connections', () => {
  it('never has more than maxPending in setup, however many offers arrive at once', async () => {
    const OFFERS = Number(process.env.VOLLEY_TEST_OFFERS ?? 400);
    const MAX = Number(process.env.VOLLEY_TEST_MAX_PENDING ?? 64);
    const SOURCES = 8; // TCP connections from 127.0.0.2..9, so HttpHost's per-source connection cap is not what refuses
    const { transport, port } = await serve({ maxPending: MAX, maxPendingPerSource: MAX, signalingRequestsPerSecond: Infinity });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, inSetup(transport))), 1);
    const replies = await Promise.all(Array.from({ length: OFFERS }, (_, i) => offer(port, `127.0.0.${2 + (i % SOURCES)}`)));
    peak = Math.max(peak, inSetup(transport));
    clearInterval(sampler);
    const t = tally(replies);
    records.push(
      `${OFFERS} concurrent offers, maxPending ${MAX}: ${t[200] ?? 0} peer connections made, peak ${peak} in setup, ${t[503] ?? 0} × 503`,
    );
    expect(t[200]).toBe(MAX);
    expect(t[503]).toBe(OFFERS - MAX);
    expect(peak).toBeLessThanOrEqual(MAX);
    expect(transport.counters.refusedBusy).toBe(OFFERS - MAX);

    // Slots are given back: close what got in (the client's close POST), then the next MAX get in again.
    const ids = replies.filter((r) => r.status === 200).map((r) => offerOf(r).id);
    const closes = await Promise.all(ids.map((id) => request(port, 'POST', `${SIGNALING}/connections/${id}/close`)));
    expect(closes.every((r) => r.status === 200)).toBe(true);
    expect(await waitUntil(() => inSetup(transport) === 0, 5000)).toBe(true);
    const again = tally(await Promise.all(Array.from({ length: MAX + 8 }, (_, i) => offer(port, `127.0.0.${2 + (i % SOURCES)}`))));
    expect(again[200]).toBe(MAX);
    expect(again[503]).toBe(8);
  });

  it('gives a slot back when a connection times out in setup', async () => {
    const { transport, port } = await serve({ maxPending: 2, connectTimeoutMs: 200 });
    expect((await offer(port)).status).toBe(200);
    expect((await offer(port)).status).toBe(200);
    expect((await offer(port)).status).toBe(503);
    expect(await waitUntil(() => transport.counters.connectTimeouts === 2, 5000)).toBe(true);
    expect((await offer(port)).status).toBe(200);
  });

  it('one source cannot hold every pending slot: its extra offers get 429 and other clients still connect', async () => {
    const { transport, port } = await serve({ maxPending: 8, maxPendingPerSource: 3 });
    const hog = tally(await Promise.all(Array.from({ length: 12 }, () => offer(port, '127.0.0.2'))));
    records.push(`one source, 12 concurrent offers (maxPending 8, maxPendingPerSource 3): ${JSON.stringify(hog)}`);
    expect(hog[200]).toBe(3);
    expect(hog[429]).toBe(9);
    expect(transport.counters.refusedPerSource).toBe(9);
    // Other sources get in, and a real client (from 127.0.0.1) connects and exchanges a datagram.
    expect((await offer(port, '127.0.0.3')).status).toBe(200);
    const base = new URL(`http://${HOST}:${port}`);
    const info: ServerInfo = { protocol: 1, transports: ['webrtc'], endpoints: { webrtc: transport.info() } };
    const c = new WebRtcClientTransport(base, info);
    clients.push(c);
    await c.open(AbortSignal.timeout(10_000));
    expect(await waitUntil(() => transport.linkCount === 1, 5000)).toBe(true);
    expect(transport.counters.remoteCandidatesDropped).toBe(0); // a real client's answer passes the filter
  });
});

describe('remote candidates', () => {
  /** UDP sockets on 127.0.0.2 … 127.0.0.(1 + n), counting the STUN datagrams each receives from the server. */
  async function thirdParties(n: number): Promise<{ candidates: string[]; stun: Map<string, number>; bytes: () => number }> {
    const targets = await Promise.all(Array.from({ length: n }, (_, i) => bindUdp(`127.0.0.${2 + i}`)));
    const stun = new Map<string, number>();
    let bytes = 0;
    for (const s of targets) {
      const { address } = s.address();
      s.on('message', (d, from) => {
        if (!isStun(d) || from.address !== HOST) return;
        stun.set(address, (stun.get(address) ?? 0) + 1);
        bytes += d.length;
      });
    }
    const candidates = targets.map((s, i) => `${i + 1} 1 udp ${2122260223 - i} ${s.address().address} ${s.address().port} typ host`);
    return { candidates, stun, bytes: () => bytes };
  }

  /** Offer, then our answer with `candidates` instead of its own; resolves with the answer's status and size. */
  async function answerWith(port: number, candidates: string[]): Promise<{ status: number; size: number }> {
    const o = offerOf(await offer(port));
    const body = JSON.stringify({ type: 'answer', sdp: withCandidates(await answerTo(o.sdp), candidates) });
    const res = await request(port, 'POST', `${SIGNALING}/connections/${o.id}/remote-description`, HOST, body);
    return { status: res.status, size: body.length };
  }

  it('an answer listing 50 third-party candidates makes the server check at most maxRemoteCandidates of them', async () => {
    const MAX = 8;
    const THIRD = 50;
    const { transport, port } = await serve({ maxRemoteCandidates: MAX });
    const third = await thirdParties(THIRD);
    const res = await answerWith(port, third.candidates);
    expect(res.status).toBe(200);
    // Connectivity checks go out paced (libjuice: one every few tens of ms, then retransmissions): give
    // every pair time to be tried, then count.
    await sleep(4000);
    const datagrams = [...third.stun.values()].reduce((a, b) => a + b, 0);
    records.push(
      `answer (${res.size} B) with ${THIRD} third-party candidates, maxRemoteCandidates ${MAX}: STUN to ${third.stun.size} ` +
        `addresses, ${datagrams} datagrams, ${third.bytes()} B in 4 s (${(third.bytes() / res.size).toFixed(1)}× the answer)`,
    );
    expect(third.stun.size).toBeGreaterThan(0); // the checks do go out, to the kept ones
    expect(third.stun.size).toBeLessThanOrEqual(MAX);
    expect(transport.counters.remoteCandidatesAccepted).toBe(MAX);
    expect(transport.counters.remoteCandidatesDropped).toBe(THIRD - MAX);
  });

  it('drops candidates that are not unicast IP literals, and keeps the answer', async () => {
    const { transport, port } = await serve({});
    const third = await thirdParties(2);
    const junk = [
      '101 1 udp 100 224.0.0.1 9 typ host', // multicast
      '102 1 udp 100 255.255.255.255 9 typ host', // broadcast
      '103 1 udp 100 0.0.0.0 9 typ host', // unspecified
      '104 1 udp 100 :: 9 typ host', // unspecified (IPv6)
      '105 1 udp 100 ff02::1 9 typ host', // multicast (IPv6)
      '106 1 udp 100 ::ffff:224.0.0.1 9 typ host', // multicast, IPv4-mapped
      '107 1 udp 100 3d1f1a2b-0000-4000-8000-000000000000.local 9 typ host', // mDNS name
      '108 1 udp 100 victim.example 9 typ host', // DNS name
      '109 1 udp 100 127.1 9 typ host', // not a literal getaddrinfo would agree on
      '110 1 udp 100 127.0.0.2 0 typ host', // port 0
      '111 1 udp 100 300.1.2.3 9 typ host', // not an address
      '112 1 tcp 100 127.0.0.2 9 typ host tcptype passive', // TCP (libjuice does UDP only)
      'garbage',
      third.candidates[0]!, // a duplicate of the first kept one, below
    ];
    const res = await answerWith(port, [third.candidates[0]!, ...junk, third.candidates[1]!]);
    expect(res.status).toBe(200);
    expect(transport.counters.remoteCandidatesAccepted).toBe(2);
    expect(transport.counters.remoteCandidatesDropped).toBe(junk.length);
    expect(await waitUntil(() => third.stun.size === 2, 5000)).toBe(true); // the two unicast ones are checked
  });
});

describe('request rate', () => {
  it('answers 429 past a source’s burst of signaling requests; other sources are not affected', async () => {
    // A rate this low adds no token during the test: exactly `burst` requests get through.
    const { transport, port } = await serve({ signalingRequestsPerSecond: 0.001, signalingBurst: 10 });
    const unknown = `${SIGNALING}/connections/${'a'.repeat(24)}/additional-candidates`;
    const from2: number[] = [];
    for (let i = 0; i < 25; i++) from2.push((await request(port, 'GET', unknown, '127.0.0.2')).status);
    expect(from2.slice(0, 10)).toEqual(Array(10).fill(404));
    expect(from2.slice(10)).toEqual(Array(15).fill(429));
    expect((await request(port, 'GET', unknown, '127.0.0.3')).status).toBe(404);
    expect((await offer(port, '127.0.0.3')).status).toBe(200);
    expect(transport.counters.rateLimited).toBe(15);
  });

  it('the default budget lets a normal client through: offer, answer, candidate polls and close', async () => {
    const { transport, port } = await serve({});
    const base = new URL(`http://${HOST}:${port}`);
    const info: ServerInfo = { protocol: 1, transports: ['webrtc'], endpoints: { webrtc: transport.info() } };
    for (let i = 0; i < 3; i++) {
      const c = new WebRtcClientTransport(base, info);
      clients.push(c);
      await c.open(AbortSignal.timeout(10_000));
      expect(await waitUntil(() => transport.counters.linksCreated === i + 1, 5000)).toBe(true); // the server's side too
      c.close();
    }
    expect(transport.counters.rateLimited).toBe(0);
    expect(transport.counters.refusedPerSource).toBe(0);
  });
});

describe('malformed signaling', () => {
  it('answers bad answers with a clear status, and the server keeps serving', async () => {
    const { transport, port } = await serve({});
    const o = offerOf(await offer(port));
    const rd = (id: string, body: string): Promise<Reply> =>
      request(port, 'POST', `${SIGNALING}/connections/${id}/remote-description`, HOST, body);
    expect((await rd(o.id, 'not json')).status).toBe(400);
    expect((await rd(o.id, '{"type":"answer"}')).status).toBe(400);
    expect((await rd(o.id, JSON.stringify({ type: 'offer', sdp: 'v=0\r\n' }))).status).toBe(400);
    expect((await rd(o.id, JSON.stringify({ type: 'answer', sdp: 'v=0\r\ngarbage\r\n' }))).status).toBe(400);
    expect((await rd(o.id, JSON.stringify({ type: 'answer', sdp: 42 }))).status).toBe(400);
    expect((await rd(o.id, '[]')).status).toBe(400);
    expect((await rd('b'.repeat(24), JSON.stringify({ type: 'answer', sdp: 'v=0\r\n' }))).status).toBe(404);
    expect((await rd(o.id, JSON.stringify({ type: 'answer', sdp: 'x'.repeat(70_000) }))).status).toBe(0); // over 64 KiB: cut off
    // A good answer (without its candidates, so this half-made peer connection never connects).
    const answer = JSON.stringify({ type: 'answer', sdp: withCandidates(await answerTo(o.sdp), []) });
    expect((await rd(o.id, answer)).status).toBe(200);
    expect((await rd(o.id, answer)).status).toBe(409); // one answer per connection

    // Nothing of it hurt the server: a real client connects.
    const base = new URL(`http://${HOST}:${port}`);
    const info: ServerInfo = { protocol: 1, transports: ['webrtc'], endpoints: { webrtc: transport.info() } };
    const c = new WebRtcClientTransport(base, info);
    clients.push(c);
    await c.open(AbortSignal.timeout(10_000));
    expect(await waitUntil(() => transport.linkCount === 1, 5000)).toBe(true);
  });

  it('refuses bad option values with a RangeError', () => {
    const bad: WebRtcTransportOptions[] = [
      { maxPendingPerSource: 0 },
      { maxPendingPerSource: 1.5 },
      { maxRemoteCandidates: -1 },
      { maxRemoteCandidates: Number.NaN },
      { signalingRequestsPerSecond: 0 },
      { signalingRequestsPerSecond: Number.NaN },
      { signalingBurst: 0.5 },
      { signalingBurst: Infinity },
      { maxPending: 2.5 },
    ];
    for (const options of bad) expect(() => new WebRtcTransport(options), JSON.stringify(options)).toThrow(RangeError);
    expect(() => new WebRtcTransport({ maxRemoteCandidates: 0, signalingRequestsPerSecond: Infinity })).not.toThrow();
  });
});
