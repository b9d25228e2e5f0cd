/**
 * Per-source caps against a real server (WebSocket on 127.0.0.1). Measured before the fix: nothing limited
 * sessions per source, and one host filled limits.maxSessions (1000) by itself. Now, per source address:
 * at most limits.maxSessionsPerSource sessions (default 64, past it ServerFull), limits.newSessionsPerSecondPerSource
 * new ones a second (default 10, 20 at once, past it RateLimited) and limits.maxPendingLinksPerSource links in
 * their handshake (default 32, past it the link is closed at once). A client from another loopback address
 * (127.0.0.2, via the `ws` package's localAddress) is never affected.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  ClientEndpoint,
  decodeControl,
  DisconnectReason,
  packetKindOf,
  PacketKind,
  Random,
  STANDARD_CHANNELS,
  SERVER_ENDPOINT_DEFAULTS as D,
} from '@volley/protocol';
import type { Server } from '@volley/server';
import { SdkRig } from '../support/sdk-rig.js';
import { waitFor } from '../support/wait.js';

const rig = new SdkRig({ transports: ['websocket'] });
const OTHER_HOST = '127.0.0.2';

/** A protocol client on a raw WebSocket from `localAddress` (loopback only). */
class RawClient {
  connected = false;
  end: { reason: number; text: string } | undefined;
  socketClosed = false;
  private readonly endpoint: ClientEndpoint<WebSocket>;
  private readonly timer = setInterval(() => this.pump(), 5);

  constructor(
    server: Server,
    seed: number,
    readonly localAddress = '127.0.0.1',
  ) {
    this.endpoint = new ClientEndpoint<WebSocket>({ connection: { channels: [...STANDARD_CHANNELS] }, random: new Random(seed) });
    this.ws = new WebSocket(`ws://127.0.0.1:${server.address().port}/volley/ws`, { localAddress });
    this.ws.on('message', (data: Buffer) => {
      const d = new Uint8Array(data);
      if (packetKindOf(d) === PacketKind.Control) {
        try {
          const c = decodeControl(d);
          if (c.type === 'reject' || c.type === 'disconnect') this.end ??= { reason: c.reason, text: c.text };
        } catch {
          // not ours to judge
        }
      }
      this.endpoint.handle(this.ws, d, performance.now());
      this.pump();
    });
    this.ws.on('close', () => (this.socketClosed = true));
    this.ws.on('error', () => {});
    this.opened = new Promise<boolean>((resolve) => {
      this.ws.once('open', () => resolve(true));
      this.ws.once('close', () => resolve(false));
    });
  }

  readonly ws: WebSocket;
  /** True once the socket is open (false: it closed first). */
  readonly opened: Promise<boolean>;

  /** Sends CONNECT once the socket is open. */
  async connect(): Promise<void> {
    if (!(await this.opened)) return;
    this.endpoint.connect(this.ws, true, new Uint8Array(0), performance.now());
    this.pump();
  }

  get settled(): boolean {
    return this.connected || this.end !== undefined || this.socketClosed;
  }

  close(): void {
    clearInterval(this.timer);
    this.ws.terminate();
  }

  private pump(): void {
    const now = performance.now();
    for (const t of this.endpoint.poll(now)) t.path.send(t.datagram);
    for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
      if (e.type === 'connected') this.connected = true;
      if (e.type === 'disconnected') this.end ??= { reason: e.reason, text: e.text };
    }
  }
}

const clients: RawClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
let seeds = 1;

/** `n` clients from `localAddress` connecting at once; resolves when each connected or was refused (bounded). */
async function connectMany(server: Server, n: number, localAddress?: string): Promise<RawClient[]> {
  const batch = Array.from({ length: n }, () => new RawClient(server, seeds++, localAddress));
  clients.push(...batch);
  await Promise.all(batch.map((c) => c.connect()));
  await waitFor(`${n} clients to connect or be refused`, () => batch.every((c) => c.settled), 10_000);
  return batch;
}

describe('per-source limits (WebSocket, one host = 127.0.0.1)', () => {
  it(`one source gets at most limits.maxSessionsPerSource (${D.maxSessionsPerSource}) sessions, the rest ServerFull; 127.0.0.2 still connects`, async () => {
    const server = await rig.serve({ limits: { newSessionsPerSecondPerSource: 10_000 } });
    const all: RawClient[] = [];
    // In batches under maxPendingLinksPerSource, so only the session cap is met.
    for (let i = 0; i < 5; i++) all.push(...(await connectMany(server, 16)));
    const ok = all.filter((c) => c.connected);
    const refused = all.filter((c) => !c.connected);
    expect(ok).toHaveLength(D.maxSessionsPerSource);
    expect(refused).toHaveLength(80 - D.maxSessionsPerSource);
    for (const c of refused)
      expect(c.end).toEqual({
        reason: DisconnectReason.ServerFull,
        text: `too many sessions from one address (${D.maxSessionsPerSource})`,
      });
    expect(server.sessionCount).toBe(D.maxSessionsPerSource);
    expect(server.endpointCounters.refusedPerSource).toBeGreaterThanOrEqual(refused.length);
    const [other] = await connectMany(server, 1, OTHER_HOST);
    expect(other!.connected).toBe(true);
    expect(server.clients.filter((s) => s.link?.remote.startsWith(`${OTHER_HOST}:`))).toHaveLength(1);
  });

  it(`one source starts at most limits.newSessionsPerSecondPerSource (${D.newSessionsPerSecondPerSource}/s, ${2 * D.newSessionsPerSecondPerSource} at once); the rest RateLimited; 127.0.0.2 is unaffected`, async () => {
    const server = await rig.serve();
    const t0 = performance.now();
    const burst = await connectMany(server, 30);
    const seconds = (performance.now() - t0) / 1000;
    const ok = burst.filter((c) => c.connected);
    const refused = burst.filter((c) => !c.connected);
    // 20 at once, plus what the bucket refilled while the 30 were connecting.
    expect(ok.length).toBeGreaterThanOrEqual(2 * D.newSessionsPerSecondPerSource);
    expect(ok.length).toBeLessThanOrEqual(2 * D.newSessionsPerSecondPerSource + Math.ceil(D.newSessionsPerSecondPerSource * seconds));
    expect(refused.length).toBeGreaterThan(0);
    for (const c of refused)
      expect(c.end).toEqual({
        reason: DisconnectReason.RateLimited,
        text: `over ${D.newSessionsPerSecondPerSource} new sessions/s from one address`,
      });
    const others = await connectMany(server, 5, OTHER_HOST);
    expect(others.every((c) => c.connected)).toBe(true);
  });

  it(`one source holds at most limits.maxPendingLinksPerSource (${D.maxPendingLinksPerSource}) links in handshake; the rest are closed at once`, async () => {
    const server = await rig.serve();
    const silent = Array.from({ length: D.maxPendingLinksPerSource + 8 }, () => new RawClient(server, seeds++));
    clients.push(...silent);
    await Promise.all(silent.map((c) => c.opened));
    await waitFor('8 links closed by the server', () => silent.filter((c) => c.socketClosed).length >= 8 || undefined, 5000);
    await new Promise((r) => setTimeout(r, 100));
    expect(silent.filter((c) => c.socketClosed)).toHaveLength(8);
    expect(server.pendingLinks).toBe(D.maxPendingLinksPerSource);
    expect(server.endpointCounters.linksRefusedPerSource).toBe(8);
    const [other] = await connectMany(server, 1, OTHER_HOST);
    expect(other!.connected).toBe(true);
  });
});
