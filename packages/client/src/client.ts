/**
 * The Volley client: connects over the best transport the network allows (fallback chain), runs the
 * protocol over it, moves the session to another transport if it dies (or to WebRTC once it opens, with
 * `upgrade`), and exposes messages and lag figures. Same API in browsers and Node (see index.ts, node.ts).
 */

import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import {
  Connection, channelIndex, decodeControl, decodeEnvelope, DisconnectReason, encodeControl, encodeEnvelope, packetKindOf, PacketKind,
  reasonName, STANDARD_CHANNELS, type ChannelChoice, type ChannelOptions, type ConnectionOptions, type ConnectionStats,
} from '@volley/protocol';
import { ConnectError, type TransportFailure } from './connect-error.js';
import { Emitter } from './emitter.js';
import type { ClientTransport, ServerInfo, TransportFactory, TransportKind } from './transport.js';

export interface ConnectOptions {
  /** Transports to try, in order. Default: webrtc, websocket, polling (udp first in Node). */
  transports?: TransportKind[];
  /** Per attempt: opening the transport plus the protocol handshake, ms. Default 5000. */
  openTimeout?: number;
  /** Sent to the server's onAuth (MessagePack-encoded, ≤ 1 KiB). */
  auth?: unknown;
  /** Connect over WebSocket at once, then move the session to WebRTC when its data channel opens. */
  upgrade?: boolean;
  /** Longest a dead transport may take to be replaced before the client gives up, ms. Default 8000. */
  resumeTimeout?: number;
  /** Period of the 'stats' event, ms (0: none). Default 1000. */
  statsInterval?: number;
  /**
   * A transport that delivers nothing for this long (ms) is taken for dead and the session moves on (pings
   * flow every second, so silence means loss of the path; UDP has no close signal). Default 3000.
   */
  transportTimeout?: number;
  /** Channel layout; default: the server's (from /volley/info). */
  channels?: ChannelOptions[];
  /** Protocol options (timeout, pingInterval, …). */
  protocol?: Omit<ConnectionOptions, 'channels' | 'retransmission' | 'nonce'>;
}

export type ClientEvents = {
  /** The session moved to another transport (`reason`: why the previous one was left). */
  transport: [kind: TransportKind, previous: TransportKind, reason: string];
  /** The session ended: server closed it, timeout, no transport left, or close(). */
  disconnect: [reason: number, text: string];
  /** Every statsInterval ms. */
  stats: [stats: ClientStats];
};

export interface ClientStats extends ConnectionStats {
  transport: TransportKind;
}

export interface SendOptions {
  /** Channel by index or kind. Default 'reliable-ordered'. */
  channel?: ChannelChoice;
}

type Factories = Partial<Record<TransportKind, TransportFactory>>;
type Timer = ReturnType<typeof setTimeout>;

const RESUME_RETRY_MS = 250;

export class Client extends Emitter<ClientEvents> {
  /** Why each transport tried before the current one failed, in order. */
  readonly failures: TransportFailure[] = [];
  private transportValue: ClientTransport;
  private readonly handlers = new Map<string, (data: unknown) => void>();
  private anyHandler: ((type: string, data: unknown) => void) | undefined;
  private timer: Timer | undefined;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private migrating = false;
  private closed = false;
  private flushQueued = false;
  private connectedWaiter: ((error?: Error) => void) | undefined;
  private lastArrival = performance.now();
  private watchdog: ReturnType<typeof setInterval> | undefined;

  /** @internal use connect() */
  constructor(
    private readonly connection: Connection,
    transport: ClientTransport,
    private readonly layout: readonly ChannelOptions[],
    private readonly base: URL,
    private readonly info: ServerInfo,
    private readonly factories: Factories,
    private readonly options: ConnectOptions,
    private readonly defaultOrder: TransportKind[],
  ) {
    super();
    this.transportValue = transport;
    this.use(transport);
  }

  /** The transport the session is on now. */
  get transport(): TransportKind {
    return this.transportValue.kind;
  }

  get state(): string {
    return this.connection.state;
  }

  /** Smoothed round-trip time, ms (ping when available, else acknowledgements). */
  get rtt(): number {
    const s = this.connection.stats();
    return s.ping.rtt?.avg ?? s.rtt.smoothed;
  }

  /** Jitter of the round trip (RFC 3550 estimator over pings), ms. */
  get jitter(): number {
    return this.connection.stats().jitter;
  }

  /** Loss each way over the recent pings, 0..1. */
  get loss(): { up: number; down: number } {
    const s = this.connection.stats();
    return { up: s.lossUp, down: s.lossDown };
  }

  /** The server's clock now (ms on its performance.now() scale), from the ping clock offset. */
  serverTime(): number {
    return this.connection.peerTime(performance.now());
  }

  stats(): ClientStats {
    return { ...this.connection.stats(performance.now()), transport: this.transport };
  }

  /** Sends a message: structured data is MessagePack-encoded, a Uint8Array goes through untouched. Throws SendError. */
  send(type: string, data?: unknown, options: SendOptions = {}): void {
    const raw = data instanceof Uint8Array;
    const body = raw ? data : msgpackEncode(data ?? null);
    this.connection.send(channelIndex(this.layout, options.channel ?? 'reliable-ordered'), encodeEnvelope(type, body, raw), performance.now());
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.pump();
      });
    }
  }

  onMessage(type: string, handler: (data: unknown) => void): this {
    this.handlers.set(type, handler);
    return this;
  }

  /** Every message whose type has no handler of its own. */
  onAnyMessage(handler: (type: string, data: unknown) => void): this {
    this.anyHandler = handler;
    return this;
  }

  /** Ends the session (the server is told) and frees the transport. */
  async close(text = ''): Promise<void> {
    if (this.closed) return;
    this.connection.disconnect(performance.now(), DisconnectReason.Closed, text);
    this.pump();
    const until = performance.now() + 200;
    while (this.connection.state === 'disconnecting' && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    this.shutdown();
  }

  // ---- internals ---------------------------------------------------------------------------

  /** @internal Resolves when the protocol handshake completes over the first transport. */
  handshake(payload: Uint8Array, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.connectedWaiter = undefined;
        reject(new Error(`no answer to CONNECT within ${timeoutMs} ms`));
      }, timeoutMs);
      this.connectedWaiter = (error) => {
        clearTimeout(t);
        this.connectedWaiter = undefined;
        if (error) reject(error);
        else resolve();
      };
      this.connection.connect(performance.now(), payload);
      this.pump();
    });
  }

  /** @internal Called once connected: periodic stats, the optional upgrade to WebRTC. */
  started(): void {
    const every = this.options.statsInterval ?? 1000;
    if (every > 0) this.statsTimer = setInterval(() => this.emit('stats', this.stats()), every);
    const silence = this.options.transportTimeout ?? 3000;
    this.watchdog = setInterval(() => {
      if (this.migrating || this.connection.state !== 'connected') return;
      const quiet = performance.now() - this.lastArrival;
      if (quiet > silence) void this.moveTo(this.migrationOrder(this.transport), `${this.transport} silent for ${Math.round(quiet)} ms`, true);
    }, Math.max(50, Math.min(500, silence / 4)));
    if (this.options.upgrade && this.transport !== 'webrtc' && this.info.transports.includes('webrtc') && this.factories.webrtc) {
      void this.moveTo(['webrtc'], 'upgrade to WebRTC', false);
    }
  }

  private use(t: ClientTransport): void {
    this.lastArrival = performance.now();
    t.onDatagram = (d) => {
      if (t !== this.transportValue) return;
      this.lastArrival = performance.now();
      this.connection.handle(d, this.lastArrival);
      this.pump();
    };
    t.onClose = (reason) => {
      if (t !== this.transportValue || this.closed) return;
      if (this.connection.state === 'connected') void this.moveTo(this.migrationOrder(t.kind), `${t.kind} closed: ${reason}`, true);
      else this.connectedWaiter?.(new Error(`${t.kind} closed: ${reason}`));
    };
  }

  /** Where to go when `failed` dies: the transports after it in the configured order first, then the rest. */
  private migrationOrder(failed: TransportKind): TransportKind[] {
    const order = (this.options.transports ?? this.defaultOrder).filter((k) => this.info.transports.includes(k));
    const i = order.indexOf(failed);
    return i < 0 ? [...order, failed] : [...order.slice(i + 1), ...order.slice(0, i + 1)];
  }

  /** Runs the connection: events, datagrams out, next wake-up. */
  private pump(): void {
    if (this.closed) return;
    const c = this.connection;
    const now = performance.now();
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      if (e.type === 'connected') this.connectedWaiter?.();
      else if (e.type === 'message') this.dispatch(e.data);
      else if (e.type === 'disconnected') {
        this.connectedWaiter?.(new ConnectError(errorCode(e.reason), `${reasonName(e.reason)}: ${e.text}`, this.failures, e.reason));
        this.emit('disconnect', e.reason, e.text);
      }
    }
    for (const d of c.poll(now)) this.transportValue.send(d);
    if (c.state === 'disconnected') {
      this.shutdown();
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    const next = c.nextTimeout();
    if (next < Infinity) this.timer = setTimeout(() => this.pump(), Math.max(0, Math.ceil(next - performance.now())));
  }

  private dispatch(data: Uint8Array): void {
    let type: string;
    let value: unknown;
    try {
      const env = decodeEnvelope(data);
      type = env.type;
      value = env.raw ? env.body.slice() : msgpackDecode(env.body);
    } catch {
      return; // not an SDK message
    }
    const h = this.handlers.get(type);
    if (h) h(value);
    else this.anyHandler?.(type, value);
  }

  /**
   * Moves the session to the first of `kinds` that opens and accepts a RESUME. With `required`, failing
   * all of them (within resumeTimeout) ends the session with TransportLost.
   */
  private async moveTo(kinds: TransportKind[], reason: string, required: boolean): Promise<void> {
    if (this.migrating) return;
    this.migrating = true;
    const previous = this.transportValue;
    const deadline = performance.now() + (this.options.resumeTimeout ?? 8000);
    try {
      for (let round = 0; performance.now() < deadline && !this.closed; round++) {
        for (const kind of kinds) {
          const factory = this.factories[kind];
          if (!factory || !this.info.transports.includes(kind) || performance.now() >= deadline) continue;
          const t = factory(this.base, this.info);
          let early: Uint8Array[];
          try {
            early = await this.resumeOn(t, Math.min(this.options.openTimeout ?? 5000, deadline - performance.now()));
          } catch (e) {
            t.close();
            this.failures.push({ transport: kind, reason: (e as Error).message });
            continue;
          }
          if (this.closed) return t.close();
          this.transportValue = t;
          this.use(t);
          this.connection.transportChanged(performance.now(), t.reliable);
          // Data that came with or just after RESUMED (one polling batch may hold both) is not lost.
          for (const d of early) this.connection.handle(d, performance.now());
          previous.close();
          this.emit('transport', t.kind, previous.kind, reason);
          this.pump();
          return;
        }
        if (!required) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      if (required && !this.closed) {
        this.connection.disconnect(performance.now(), DisconnectReason.TransportLost, `no transport could resume the session (${reason})`);
        this.emit('disconnect', DisconnectReason.TransportLost, `no transport could resume the session (${reason})`);
        this.shutdown();
      }
    } finally {
      this.migrating = false;
    }
  }

  /**
   * Opens `t` and resumes the session on it (RESUME, repeated, until RESUMED or REJECT). Returns the data
   * datagrams that arrived on it meanwhile (the server switches at RESUME, so its data may come right after).
   */
  private async resumeOn(t: ClientTransport, timeoutMs: number): Promise<Uint8Array[]> {
    const early: Uint8Array[] = [];
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`${t.kind}: no answer within ${Math.round(timeoutMs)} ms`)), timeoutMs);
    try {
      await t.open(ac.signal);
      const resume = encodeControl({ type: 'resume', connectionId: this.connection.connectionId, token: this.connection.sessionToken });
      await new Promise<void>((resolve, reject) => {
        const retry = setInterval(() => t.send(resume), RESUME_RETRY_MS);
        const done = (e?: Error) => {
          clearInterval(retry);
          ac.signal.removeEventListener('abort', onAbort);
          if (e) reject(e);
          else resolve();
        };
        const onAbort = () => done(ac.signal.reason instanceof Error ? ac.signal.reason : new Error('aborted'));
        ac.signal.addEventListener('abort', onAbort);
        t.onClose = (why) => done(new Error(`${t.kind} closed: ${why}`));
        t.onDatagram = (d) => {
          if (packetKindOf(d) !== PacketKind.Control) {
            if (early.length < 4096) early.push(d.slice());
            return;
          }
          try {
            const p = decodeControl(d);
            if (p.type === 'resumed' && p.connectionId === this.connection.connectionId) done();
            else if (p.type === 'reject') done(new Error(`${t.kind}: resume refused: ${p.text}`));
          } catch {
            // ignore
          }
        };
        t.send(resume);
      });
      return early;
    } finally {
      clearTimeout(timer);
    }
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.watchdog) clearInterval(this.watchdog);
    this.transportValue.close();
  }
}

function errorCode(reason: number): ConnectError['code'] {
  switch (reason) {
    case DisconnectReason.Rejected:
      return 'rejected';
    case DisconnectReason.ServerFull:
      return 'server-full';
    case DisconnectReason.VersionMismatch:
      return 'version-mismatch';
    case DisconnectReason.ChannelMismatch:
      return 'channel-mismatch';
    case DisconnectReason.ConnectTimeout:
      return 'timeout';
    default:
      return 'closed';
  }
}

/** Fetches GET /volley/info: which transports the server offers and how to reach them. */
export async function fetchInfo(base: URL, timeoutMs: number): Promise<ServerInfo & { channels?: ChannelOptions[] }> {
  const url = new URL('/volley/info', base);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new ConnectError('unreachable', `cannot reach ${url.href}: ${(e as Error).message}`, []);
  }
  if (!res.ok) throw new ConnectError('unreachable', `${url.href} answered ${res.status}`, []);
  return (await res.json()) as ServerInfo & { channels?: ChannelOptions[] };
}

/** The connect algorithm shared by the browser and Node entries, given their transport factories. */
export async function connectWith(url: string | URL, options: ConnectOptions, factories: Factories, defaultOrder: TransportKind[]): Promise<Client> {
  const base = new URL(url);
  const openTimeout = options.openTimeout ?? 5000;
  const info = await fetchInfo(base, openTimeout);
  const layout = options.channels ?? info.channels ?? [...STANDARD_CHANNELS];
  const payload = options.auth === undefined ? new Uint8Array(0) : msgpackEncode(options.auth);
  const order = options.upgrade ? ['websocket' as const, ...(options.transports ?? defaultOrder).filter((k) => k !== 'websocket')] : (options.transports ?? defaultOrder);
  const failures: TransportFailure[] = [];
  for (const kind of order) {
    if (!info.transports.includes(kind)) {
      failures.push({ transport: kind, reason: 'not offered by the server' });
      continue;
    }
    const factory = factories[kind];
    if (!factory) {
      failures.push({ transport: kind, reason: 'not available in this environment' });
      continue;
    }
    const t = factory(base, info);
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error(`${kind}: did not open within ${openTimeout} ms`)), openTimeout);
    const started = performance.now();
    let client: Client | undefined;
    try {
      await t.open(ac.signal);
      clearTimeout(timer);
      const connection = Connection.client({ ...options.protocol, channels: layout, retransmission: !t.reliable, nonce: (Math.random() * 0x1_0000_0000) >>> 0 });
      client = new Client(connection, t, layout, base, info, factories, options, defaultOrder);
      await client.handshake(payload, Math.max(1, openTimeout - (performance.now() - started)));
    } catch (e) {
      clearTimeout(timer);
      t.close();
      if (e instanceof ConnectError && e.code !== 'timeout' && e.code !== 'closed') {
        throw new ConnectError(e.code, e.message, [...failures, { transport: kind, reason: e.message }], e.reason);
      }
      failures.push({ transport: kind, reason: ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason.message : (e as Error).message });
      continue;
    }
    client.failures.push(...failures);
    client.started();
    return client;
  }
  throw new ConnectError('no-transport', `no transport worked: ${failures.map((f) => `${f.transport} (${f.reason})`).join('; ')}`, failures);
}
