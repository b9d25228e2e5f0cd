/**
 * Per-session rate limits count every datagram, against a real server (WebSocket on 127.0.0.1). Measured
 * before the fix: PINGs (each answered by a PONG 2.33× its size), duplicates and malformed packets were free
 * — only delivered messages were counted — so one session could push 15 MB/s against a 4 MiB/s limit and
 * never be cut. Now every datagram the server routes to a session takes from its budget (limits.packetsPerSecond,
 * default 1000/s; limits.bytesPerSecond, default 4 MiB/s; both with 2 s of burst): a PING flood, a garbage
 * flood and a duplicate flood are each cut with RateLimited, and a second, good client stays connected.
 *
 * The flooder is a real protocol client (the protocol's ClientEndpoint over a `ws` WebSocket) until it is
 * connected; then its host stops driving it and sends its own datagrams on the socket.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connect, type Client } from '@volley/client';
import {
  ClientEndpoint,
  decodeControl,
  decodeHeader,
  DisconnectReason,
  encodeHeader,
  encodePing,
  packetKindOf,
  PacketKind,
  PING_SIZE,
  Random,
  STANDARD_CHANNELS,
  SERVER_ENDPOINT_DEFAULTS as D,
} from '@volley/protocol';
import type { Server, Session } from '@volley/server';
import { echoed } from '../support/echo.js';
import { SdkRig } from '../support/sdk-rig.js';
import { waitFor } from '../support/wait.js';

const rig = new SdkRig({ transports: ['websocket'] });

/** A protocol client on a raw WebSocket whose host can stop driving it and send whatever it likes. */
class RawSession {
  readonly endpoint = new ClientEndpoint<WebSocket>({ connection: { channels: [...STANDARD_CHANNELS] }, random: new Random(7) });
  connected = false;
  /** The DISCONNECT or REJECT the server sent (read off the socket, whoever drives the endpoint). */
  end: { reason: number; text: string } | undefined;
  /** The last data datagram the endpoint sent, and its sequence number. */
  lastData: Uint8Array | undefined;
  private driving = true;
  private readonly timer = setInterval(() => this.pump(), 5);

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const d = new Uint8Array(data);
      if (packetKindOf(d) === PacketKind.Control) {
        try {
          const c = decodeControl(d);
          if (c.type === 'disconnect' || c.type === 'reject') this.end ??= { reason: c.reason, text: c.text };
        } catch {
          // not ours to judge
        }
      }
      if (this.driving) {
        this.endpoint.handle(ws, d, performance.now());
        this.pump();
      }
    });
    ws.on('error', () => {});
  }

  static async open(server: Server): Promise<RawSession> {
    const ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/volley/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const s = new RawSession(ws);
    s.endpoint.connect(ws, true, new Uint8Array(0), performance.now());
    s.pump();
    await waitFor('the raw session to connect', () => s.connected || s.end, 5000);
    return s;
  }

  /** From now on the host sends its own datagrams; the protocol endpoint is left alone. */
  takeOver(): void {
    this.driving = false;
    clearInterval(this.timer);
  }

  /** Sends `n` datagrams from `make(i)`, pausing when the socket holds more than 1 MiB (bounded by n). */
  async flood(n: number, make: (i: number) => Uint8Array): Promise<void> {
    for (let i = 0; i < n && this.ws.readyState === WebSocket.OPEN; i++) {
      this.ws.send(make(i));
      if (i % 500 === 499) while (this.ws.bufferedAmount > 1 << 20) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 0));
  }

  close(): void {
    clearInterval(this.timer);
    this.ws.terminate();
  }

  private pump(): void {
    if (!this.driving) return;
    const now = performance.now();
    for (const t of this.endpoint.poll(now)) {
      const kind = packetKindOf(t.datagram);
      if (kind === PacketKind.Data || kind === PacketKind.DataNoAck) this.lastData = t.datagram.slice();
      t.path.send(t.datagram);
    }
    for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) if (e.type === 'connected') this.connected = true;
  }
}

const raws: RawSession[] = [];
afterEach(() => {
  for (const r of raws.splice(0)) r.close();
});

/** A server that echoes, a good SDK client, and a connected raw session whose host has taken over. */
async function setup(limits: NonNullable<Parameters<SdkRig['serve']>[0]>['limits'] = {}) {
  const server = await rig.serve({ limits });
  server.onMessage('echo', (s, v) => s.send('echo', v));
  const good = rig.track(await connect(server.address().url, { transports: ['websocket'] }));
  const goodSession = await waitFor('the good session on the server', () => server.clients[0], 5000);
  const raw = await RawSession.open(server);
  raws.push(raw);
  expect(raw.connected).toBe(true);
  const session = await waitFor('the raw session on the server', () => server.clients.find((s) => s !== goodSession), 5000);
  const since = performance.now();
  return { server, good, raw, session, since };
}

/** Data packets without acks (the smallest header), numbered on from the raw session's last one. */
function numbered(raw: RawSession): (body: Uint8Array) => Uint8Array {
  let seq = raw.lastData ? decodeHeader(raw.lastData).sequence : 0;
  return (body) => {
    seq = (seq + 1) & 0xffff;
    const h = encodeHeader({ sequence: seq });
    const d = new Uint8Array(h.length + body.length);
    d.set(h);
    d.set(body, h.length);
    return d;
  };
}

/** After a cut: the client heard RateLimited with `text`, the good client is still served, nothing else was cut. */
async function cut(server: Server, raw: RawSession, session: Session, good: Client, text: string): Promise<void> {
  await waitFor('the cut', () => raw.end, 10_000);
  expect(raw.end).toEqual({ reason: DisconnectReason.RateLimited, text });
  await waitFor('the session to end', () => session.state === 'disconnected' || undefined, 5000);
  expect(server.endpointCounters.rateLimited).toBe(1);
  await echoed(good, 42);
  expect(good.state).toBe('connected');
  expect(server.clients).toHaveLength(1);
}

const BURST = 2 * D.packetsPerSecond;

describe('per-session rate limits count every datagram (WebSocket, default limits)', () => {
  it(`a PING flood is cut with RateLimited past limits.packetsPerSecond (${D.packetsPerSecond}/s, ${BURST} at once); the good client stays`, async () => {
    const { server, good, raw, session, since } = await setup();
    raw.takeOver();
    const next = numbered(raw);
    // Record: flags (channel 15), length, then a PING.
    const ping = (i: number) => next(Uint8Array.from([0x0f, PING_SIZE, ...encodePing({ seq: i & 0xffff, sentAt: i })]));
    // Under the burst: answered, counted, not cut.
    await raw.flood(BURST / 2, ping);
    await waitFor('the first half of the burst', () => session.stats().packetsReceived >= BURST / 2 || undefined, 5000);
    expect(session.state).toBe('connected');
    expect(session.stats().malformedPackets).toBe(0);
    // Past it: cut.
    await raw.flood(10_000, (i) => ping(BURST / 2 + i));
    await cut(server, raw, session, good, `rate limit: over ${D.packetsPerSecond} datagrams/s`);
    // What the session's connection read is within its budget: the burst and the rate over its life.
    const seconds = (performance.now() - since) / 1000 + 1; // + the handshake before `since`, generously
    expect(session.stats().packetsReceived).toBeLessThanOrEqual(BURST + D.packetsPerSecond * seconds);
  });

  it('a garbage flood (malformed datagrams) is cut the same way; the good client stays', async () => {
    const { server, good, raw, session } = await setup();
    raw.takeOver();
    const garbage = (i: number) => Uint8Array.from({ length: 100 }, (_, k) => (k === 0 ? 0xff : (i + k) & 0xff));
    await raw.flood(BURST / 2, garbage);
    await waitFor('the garbage read', () => session.stats().malformedPackets >= BURST / 2 || undefined, 5000);
    expect(session.state).toBe('connected');
    await raw.flood(10_000, garbage);
    await cut(server, raw, session, good, `rate limit: over ${D.packetsPerSecond} datagrams/s`);
  });

  it('a duplicate flood (one real packet sent again and again) is cut the same way; the good client stays', async () => {
    const { server, good, raw, session } = await setup();
    raw.endpoint.send(0, new Uint8Array([0x01]), performance.now()); // something real to copy
    await waitFor('a data packet', () => raw.lastData, 2000);
    raw.takeOver();
    const copy = raw.lastData!;
    await raw.flood(BURST / 2, () => copy);
    await waitFor('the duplicates read', () => session.stats().duplicatePackets >= BURST / 2 - 5 || undefined, 5000);
    expect(session.state).toBe('connected');
    await raw.flood(10_000, () => copy);
    await cut(server, raw, session, good, `rate limit: over ${D.packetsPerSecond} datagrams/s`);
  });

  it('bytes are wire bytes of every datagram: 1 KB of garbage at a time passes limits.bytesPerSecond and is cut', async () => {
    const { server, good, raw, session } = await setup({ bytesPerSecond: 100_000 });
    raw.takeOver();
    const big = Uint8Array.from({ length: 1000 }, (_, k) => (k === 0 ? 0xff : k & 0xff));
    await raw.flood(50, () => big); // 50 KB: under the 200 KB burst
    await waitFor('the first 50', () => session.stats().malformedPackets >= 50 || undefined, 5000);
    expect(session.state).toBe('connected');
    await raw.flood(1000, () => big);
    await cut(server, raw, session, good, 'rate limit: over 100000 bytes/s');
    expect(session.stats().bytesReceived).toBeLessThan(400_000);
  });
});
