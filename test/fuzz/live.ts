/**
 * What the live-server fuzz targets share: a raw protocol session over a real WebSocket (the protocol's own
 * ClientEndpoint, so the handshake is honest and only what the test sends afterwards is hostile), the check
 * that a well-behaved client is still served, and bounded waits. Everything is on 127.0.0.1.
 */

import { WebSocket as NodeWebSocket } from 'ws';
import { connect, fetchInfo, WebSocketClientTransport, type ClientTransport, type TransportKind } from '@volley/client';
import { ClientEndpoint, Random, STANDARD_CHANNELS, type ChannelOptions } from '@volley/protocol';
import type { Server } from '@volley/server';

/**
 * Per-source limits raised out of the way: every fuzz client and soak client comes from 127.0.0.1, which the
 * server would otherwise take for one address opening too many links and sessions (those limits have their
 * own tests in test/attacks). Spread into `limits`; a name the server does not know is ignored.
 */
export const ONE_SOURCE_MANY_CLIENTS: Record<string, number> = {
  maxSessionsPerSource: 100_000,
  maxPendingLinksPerSource: 100_000,
  newSessionsPerSecondPerSource: 100_000,
};

/** The same for the UDP transport's own per-source rates (`udp` in the server options). */
export const ONE_SOURCE_MANY_UDP_CLIENTS = { tokensPerSecondPerSource: 100_000, linksPerSecondPerSource: 100_000 };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Checks `cond` every 5 ms until it holds or `ms` pass; returns whether it held. */
export async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  for (let i = 0; i < Math.ceil(ms / 5) + 2; i++) {
    if (cond()) return true;
    if (performance.now() > end) break;
    await sleep(5);
  }
  return cond();
}

/** A protocol session over a real WebSocket whose messages and datagrams the test writes itself. */
export class RawSession {
  private readonly timer: ReturnType<typeof setInterval>;
  ended: { reason: number; text: string } | undefined;
  connected = false;
  /** While true the endpoint sends nothing (no acks, pings): only what the test writes reaches the server. */
  paused = false;
  /** Datagrams the server sent us. */
  readonly received: Uint8Array[] = [];

  private constructor(
    readonly transport: ClientTransport,
    readonly endpoint: ClientEndpoint<ClientTransport>,
  ) {
    transport.onDatagram = (d) => {
      if (this.received.length < 10_000) this.received.push(d);
      endpoint.handle(transport, d, performance.now());
      this.pump();
    };
    transport.onClose = () => {
      endpoint.pathClosed(transport, performance.now());
      this.pump();
    };
    this.timer = setInterval(() => this.pump(), 5);
  }

  /** Connects with `auth` as the raw CONNECT payload; resolves once connected or ended (at most 5 s). */
  static async open(url: string, auth: Uint8Array = new Uint8Array(0), seed = 1): Promise<RawSession> {
    const base = new URL(url);
    if (base.hostname !== '127.0.0.1') throw new Error(`loopback only, not ${url}`);
    const info = await fetchInfo(base, 5000);
    const t = new WebSocketClientTransport(base, info, NodeWebSocket as unknown as typeof WebSocket);
    await t.open(AbortSignal.timeout(5000));
    const channels = (info as { channels?: ChannelOptions[] }).channels ?? [...STANDARD_CHANNELS];
    const e = new ClientEndpoint<ClientTransport>({ connection: { channels }, random: new Random(seed) });
    const s = new RawSession(t, e);
    e.connect(t, true, auth, performance.now());
    await waitUntil(() => s.connected || s.ended !== undefined, 5000);
    return s;
  }

  /** One protocol message (an envelope, or anything) on `channel`. */
  sendMessage(bytes: Uint8Array, channel = 0): void {
    this.endpoint.send(channel, bytes, performance.now());
    this.pump();
  }

  /** One datagram straight onto the WebSocket, past the endpoint. */
  sendDatagram(d: Uint8Array): void {
    this.transport.send(d);
  }

  close(): void {
    clearInterval(this.timer);
    this.transport.close();
  }

  private pump(): void {
    if (this.paused) return;
    const now = performance.now();
    for (const t of this.endpoint.poll(now)) t.path.send(t.datagram);
    for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
      if (e.type === 'connected') this.connected = true;
      if (e.type === 'disconnected') this.ended = { reason: e.reason, text: e.text };
    }
  }
}

/**
 * A well-behaved client connects over `kind`, gets its echo back and leaves: the server still serves.
 * The server must echo 'echo' messages (`echoing`).
 */
export async function wellBehavedClientServed(server: Server, kind: TransportKind): Promise<boolean> {
  const c = await connect(server.address().url, { transports: [kind] });
  try {
    const back = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5000);
      c.onMessage('echo', (v) => {
        if (v === 'still here') {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    c.send('echo', 'still here');
    return await back;
  } finally {
    await c.close();
  }
}

/** Makes `server` echo 'echo' messages. */
export function echoing(server: Server): Server {
  server.onMessage('echo', (s, v) => s.send('echo', v));
  return server;
}
