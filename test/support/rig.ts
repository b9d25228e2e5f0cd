/**
 * One lifecycle test's resources: servers (in this process or a child), clients (here or in a child), network
 * cuts. Everything is created with the lifecycle spec's settings (protocol timeout 2000 ms, transportTimeout
 * and resumeTimeout 1000 ms, one forced transport, 127.0.0.1 only), reports every session end to the test's
 * Timeline, and is released by dispose(): clients closed, servers closed, children killed, cuts removed.
 */

import dgram from 'node:dgram';
import { connect, type Client, type ConnectOptions, type TransportKind } from '@volley/client';
import { Server, type ServerOptions } from '@volley/server';
import { Child, CLIENT_CHILD, SERVER_CHILD } from './child.js';
import type { NetCut } from './netfilter.js';
import type { Timeline } from './timeline.js';
import { withTimeout } from './wait.js';

/** The protocol timeout every lifecycle test uses, ms. */
export const TIMEOUT = 2000;
/** Deadline for a side to report the end of a session: timeout + 1 s. */
export const DEADLINE = TIMEOUT + 1000;
/** Extra wait after the expected event(s), to catch a second report. */
export const GRACE = 750;
/** Children are SIGKILLed after this long whatever happens (longer than any test). */
const CHILD_HARD_KILL_MS = 60_000;
/** Connecting (info fetch, transport, handshake) should take well under this. */
const CONNECT_MS = 10_000;

const HOST = '127.0.0.1';
const STALL_CHECK_MS = 50;
const STALL_MS = 250;

export function clientOptions(kind: TransportKind): ConnectOptions {
  return { transports: [kind], protocol: { timeout: TIMEOUT }, transportTimeout: 1000, resumeTimeout: 1000 };
}

/** A UDP port free on 127.0.0.1 right now (for WebRTC's fixed media port). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, HOST, () => resolve());
  });
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** The spec's server options for `kind` (WebRTC gets a fixed media port so a cut can target it). */
export async function serverOptions(
  kind: TransportKind,
  extra: Partial<ServerOptions> = {},
): Promise<{ options: ServerOptions; mediaPort: number | undefined }> {
  const mediaPort = kind === 'webrtc' ? await freeUdpPort() : undefined;
  const options: ServerOptions = {
    host: HOST,
    port: 0,
    udpPort: 0,
    transports: [kind],
    protocol: { timeout: TIMEOUT },
    ...(mediaPort !== undefined ? { webrtc: { portRange: { min: mediaPort, max: mediaPort } } } : {}),
    ...extra,
  };
  return { options, mediaPort };
}

export interface ServerPorts {
  http: number;
  udp: number | undefined;
  media: number | undefined;
}

export class Rig {
  private readonly servers: Server[] = [];
  private readonly clients: Client[] = [];
  private readonly children: Child[] = [];
  private readonly cuts: NetCut[] = [];
  private clientCount = 0;
  private readonly stallWatch: ReturnType<typeof setInterval>;

  constructor(
    readonly kind: TransportKind,
    readonly tl: Timeline,
  ) {
    // Deadlines are measured on this process's clock: note when its event loop was blocked (timers late),
    // so a late event can be told apart from a slow peer.
    let last = performance.now();
    this.stallWatch = setInterval(() => {
      const now = performance.now();
      if (now - last > STALL_MS) tl.note(`(this process's event loop was blocked for ~${Math.round(now - last - STALL_CHECK_MS)} ms)`);
      last = now;
    }, STALL_CHECK_MS);
    this.stallWatch.unref();
  }

  /** A server in this process; every onDisconnect goes to the timeline. */
  async server(extra: Partial<ServerOptions> = {}): Promise<{ server: Server; url: string; ports: ServerPorts }> {
    const { options, mediaPort } = await serverOptions(this.kind, extra);
    const server = new Server(options);
    this.servers.push(server);
    server.onDisconnect((session, reason, text) => this.tl.end('server', `session ${session.id}`, reason, text));
    await server.listen();
    const a = server.address();
    return { server, url: a.url, ports: { http: a.port, udp: a.udpPort, media: mediaPort } };
  }

  /** A client in this process; its 'disconnect' events and transport moves go to the timeline. */
  async client(url: string, label = `client#${++this.clientCount}`): Promise<{ client: Client; label: string }> {
    const client = await withTimeout(`${label} connecting over ${this.kind}`, connect(url, clientOptions(this.kind)), CONNECT_MS);
    this.adopt(client, label);
    return { client, label };
  }

  /** Takes a client the test connected itself: closed at dispose(), its events go to the timeline. */
  adopt(client: Client, label: string): void {
    this.clients.push(client);
    client.on('disconnect', (reason, text) => this.tl.end('client', label, reason, text));
    client.on('transport', (kind, previous, why) => this.tl.note(`${label} moved ${previous} → ${kind} (${why})`));
  }

  /** A client in a child process, connected (its own output goes to the timeline as notes). */
  async childClient(url: string, label: string): Promise<Child> {
    const child = new Child(label, CLIENT_CHILD, { url, options: clientOptions(this.kind) }, CHILD_HARD_KILL_MS, (line) =>
      this.tl.note(`${label} (child) says ${JSON.stringify(line)}`),
    );
    this.children.push(child);
    await child.line('connected', CONNECT_MS);
    return child;
  }

  /** A server in a child process, listening. */
  async childServer(label: string, extra: Partial<ServerOptions> = {}): Promise<{ child: Child; url: string }> {
    const { options } = await serverOptions(this.kind, extra);
    const child = new Child(label, SERVER_CHILD, { options }, CHILD_HARD_KILL_MS, (line) =>
      this.tl.note(`${label} (child) says ${JSON.stringify(line)}`),
    );
    this.children.push(child);
    const listening = await child.line('listening', CONNECT_MS);
    if (typeof listening.url !== 'string') throw new Error(`${label}: no url in ${JSON.stringify(listening)}`);
    return { child, url: listening.url };
  }

  /** Remembers a cut so dispose() removes it even if the test did not get to. */
  track(cut: NetCut): NetCut {
    this.cuts.push(cut);
    return cut;
  }

  /** Releases everything: cuts first (so closing can reach the peer), then clients, servers, children. */
  async dispose(): Promise<void> {
    clearInterval(this.stallWatch);
    const errors: unknown[] = [];
    for (const cut of this.cuts.splice(0)) await cut.remove().catch((e: unknown) => errors.push(e));
    await Promise.all(
      this.clients.splice(0).map((c) => withTimeout('client.close()', c.close(), 5000).catch((e: unknown) => errors.push(e))),
    );
    await Promise.all(
      this.servers.splice(0).map((s) => withTimeout('server.close()', s.close(), 10_000).catch((e: unknown) => errors.push(e))),
    );
    await Promise.all(this.children.splice(0).map((c) => c.dispose()));
    if (errors.length > 0) throw new Error(`cleanup failed: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`);
  }
}
