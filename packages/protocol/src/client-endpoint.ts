/**
 * The client's endpoint: one session above paths that come and go, sans-I/O. A *path* is the host's handle
 * for one transport connection (a WebSocket, a data channel, a UDP socket…); the host opens transports, the
 * endpoint decides what goes on which and when the session is over.
 *
 *  - `connect(path, …)`: the handshake runs on that path.
 *  - `addPath(path, …)`: a new transport is open (an upgrade, or a replacement for a dead one): the endpoint
 *    sends RESUME on it, repeated every `resumeInterval`, until RESUMED (the session moves there:
 *    'path-changed', the connection requeues what was in flight) or REJECT ('path-refused'). Data that
 *    arrives on it before RESUMED (the server switches at RESUME) is kept and applied after the move.
 *    Paths added together are resumed one at a time, in the order added (see `checkPaths`).
 *  - `pathClosed(path)`: a transport died. If it was the current one the host hears 'path-lost' and should
 *    find another; if none is resumed within `resumeTimeout` the session ends with TransportLost.
 *  - a current path that delivers nothing for `silence` ms is reported once as 'path-lost' ('silent'): raw
 *    UDP and WebRTC give no close signal. It stays in use; the protocol's own timeout ends the session if
 *    nothing else can resume it (reason Timeout).
 *
 * Every end of the session (the server's DISCONNECT or REJECT, a timeout, close(), TransportLost) is reported
 * exactly once as 'disconnected', and is final: nothing is sent or delivered after it.
 */

import type { ConnectionOptions } from './connection-options.js';
import { Connection, type ConnectionState } from './connection.js';
import { decodeControl, encodeControl } from './control.js';
import { packetKindOf, PacketKind } from './header.js';
import { Queue } from './queue.js';
import type { RandomSource } from './random.js';
import { DisconnectReason } from './reason.js';
import { ConfigError } from './errors.js';

export interface ClientEndpointOptions {
  /** The connection's options (channels, timeout, …). Retransmission follows each path. */
  connection?: Omit<ConnectionOptions, 'retransmission' | 'random'>;
  /** Where the connection's nonce comes from (a cryptographic source in hosts, a seeded `Random` in tests). */
  random: RandomSource;
  /** A current path that delivers nothing for this long (ms) is reported as lost ('silent'). Default 3000. */
  silence?: number;
  /** The session ends (TransportLost) when it has had no open path for this long, ms. Default min(8000, timeout). */
  resumeTimeout?: number;
  /** RESUME is repeated this often on a path being resumed, ms. Default 250. */
  resumeInterval?: number;
}

export type ClientEndpointEvent<P> =
  | { type: 'connected' }
  | { type: 'message'; channel: number; data: Uint8Array }
  /** The session now runs on `path`; the host may close `previous`. */
  | { type: 'path-changed'; path: P; previous: P | undefined }
  /** The server refused to resume the session on `path` (the host should close it). */
  | { type: 'path-refused'; path: P; reason: string }
  /** The current path died ('closed') or went quiet ('silent'): the host should open another and addPath() it. */
  | { type: 'path-lost'; path: P; why: 'closed' | 'silent' }
  /** The session ended; exactly once, and final. */
  | { type: 'disconnected'; reason: number; text: string; by: 'local' | 'peer' };

export interface PathTransmit<P> {
  path: P;
  datagram: Uint8Array;
}

interface Candidate {
  reliable: boolean;
  nextResumeAt: number;
  /** Data datagrams that came before RESUMED (bounded). */
  early: Uint8Array[];
}

const MAX_EARLY = 4096;

export class ClientEndpoint<P> {
  private conn: Connection | undefined;
  private currentPath: P | undefined;
  /** Paths no longer current but still open: what arrives on them is still taken (a move in progress). */
  private readonly others = new Set<P>();
  private readonly candidates = new Map<P, Candidate>();
  private readonly events = new Queue<ClientEndpointEvent<P>>();
  private readonly outbox: PathTransmit<P>[] = [];
  private readonly silence: number;
  private readonly resumeInterval: number;
  private readonly resumeTimeout: number;
  private now = 0;
  private lastArrival = 0;
  private silentReported = false;
  /** When the session lost its last open path (Infinity: it has one). */
  private lostAt = Infinity;
  private ended = false;

  constructor(private readonly options: ClientEndpointOptions) {
    this.silence = positive('silence', options.silence ?? 3000);
    this.resumeInterval = positive('resumeInterval', options.resumeInterval ?? 250);
    const timeout = options.connection?.timeout ?? 10_000;
    this.resumeTimeout = positive('resumeTimeout', options.resumeTimeout ?? Math.min(8000, timeout));
  }

  /** The session's connection (stats, peer time, state); throws before connect(). */
  get connection(): Connection {
    if (!this.conn) throw new ConfigError('connect() first');
    return this.conn;
  }

  get state(): ConnectionState {
    return this.conn?.state ?? 'idle';
  }

  /** The path the session sends on (undefined between transports). */
  get path(): P | undefined {
    return this.currentPath;
  }

  /** Starts the handshake on `path`. `reliable`: the path is reliable and ordered itself. */
  connect(path: P, reliable: boolean, payload: Uint8Array, now: number): void {
    this.tick(now);
    if (this.conn) throw new ConfigError('connect() once per endpoint');
    this.conn = Connection.client({ ...this.options.connection, random: this.options.random, retransmission: !reliable });
    this.currentPath = path;
    this.lastArrival = this.now;
    this.conn.connect(this.now, payload);
  }

  /** A new transport is open: resume the session on it (the session must be connected). */
  addPath(path: P, reliable: boolean, now: number): void {
    this.tick(now);
    if (this.ended || this.state !== 'connected' || this.candidates.has(path) || path === this.currentPath) return;
    this.candidates.set(path, { reliable, nextResumeAt: this.now, early: [] });
  }

  /** A transport died (or the host closed it). */
  pathClosed(path: P, now: number): void {
    this.tick(now);
    this.candidates.delete(path);
    this.others.delete(path);
    if (path !== this.currentPath) return;
    this.currentPath = undefined;
    if (this.ended) return;
    if (this.state === 'connecting') {
      this.conn!.disconnect(this.now, DisconnectReason.TransportLost, 'the transport closed during the handshake');
    } else {
      this.lostAt = this.now;
      this.events.push({ type: 'path-lost', path, why: 'closed' });
    }
    this.drain();
  }

  /** One datagram that arrived on `path`. Never throws for any input. */
  handle(path: P, datagram: Uint8Array, now: number): void {
    this.tick(now);
    const c = this.conn;
    if (!c || this.ended) return;
    const candidate = this.candidates.get(path);
    if (candidate) return this.onCandidate(path, candidate, datagram);
    if (path !== this.currentPath && !this.others.has(path)) return;
    if (path === this.currentPath) {
      this.lastArrival = this.now;
      this.silentReported = false;
    }
    c.handle(datagram, this.now);
    this.drain();
  }

  /** Queues a message (Connection.send's contract: copies `data`, throws SendError). */
  send(channel: number, data: Uint8Array, now: number): number | undefined {
    this.tick(now);
    return this.connection.send(channel, data, this.now);
  }

  /** Queues a message, or returns false when the connection cannot hold it now (Connection.trySend's contract). */
  trySend(channel: number, data: Uint8Array, now: number): boolean {
    this.tick(now);
    return this.connection.trySend(channel, data, this.now);
  }

  /** Ends the session; the server is told `reason` and `text`. */
  close(reason: number, text: string, now: number): void {
    this.tick(now);
    if (!this.conn || this.ended) return;
    this.conn.disconnect(this.now, reason, text);
    this.drain();
  }

  /** Runs everything due at `now`; returns the datagrams to send, each with its path. */
  poll(now: number): PathTransmit<P>[] {
    this.tick(now);
    const c = this.conn;
    if (!c) return [];
    if (!this.ended) {
      this.checkPaths();
      const out = c.poll(this.now);
      const path = this.currentPath;
      if (path !== undefined) for (const datagram of out) this.outbox.push({ path, datagram });
      this.drain();
    }
    return this.outbox.splice(0);
  }

  pollEvent(): ClientEndpointEvent<P> | undefined {
    return this.events.shift();
  }

  /** When poll() must run next (absolute ms; Infinity: nothing scheduled). */
  nextTimeout(): number {
    const c = this.conn;
    if (this.outbox.length > 0) return this.now;
    if (!c || this.ended) return Infinity;
    let t = c.nextTimeout();
    // The path timers run only while connected (checkPaths): only then may they wake the host.
    if (c.state === 'connected') {
      const resuming = this.candidates.values().next().value;
      if (resuming) t = Math.min(t, resuming.nextResumeAt);
      if (this.lostAt < Infinity) t = Math.min(t, this.lostAt + this.resumeTimeout);
      if (this.currentPath !== undefined && !this.silentReported) t = Math.min(t, this.lastArrival + this.silence);
    }
    return Math.max(this.now, t);
  }

  // ---- internals ------------------------------------------------------------------------------------

  /** Path timers: RESUME retries, silence, the TransportLost deadline. */
  private checkPaths(): void {
    const c = this.conn!;
    if (c.state !== 'connected') return;
    const resume = encodeControl({ type: 'resume', connectionId: c.connectionId, token: c.sessionToken });
    // Only the oldest candidate sends RESUME; the next starts once it is answered or closed. The server moves
    // the session at each RESUME and the client at each RESUMED: two resumed at once could be taken in one
    // order and answered in the other, leaving each side sending on a different path.
    for (const [path, cand] of this.candidates) {
      if (cand.nextResumeAt <= this.now) {
        this.outbox.push({ path, datagram: resume });
        cand.nextResumeAt = this.now + this.resumeInterval;
      }
      break;
    }
    const path = this.currentPath;
    if (path !== undefined && !this.silentReported && this.now >= this.lastArrival + this.silence) {
      this.silentReported = true;
      this.events.push({ type: 'path-lost', path, why: 'silent' });
    }
    if (this.now >= this.lostAt + this.resumeTimeout) {
      this.lostAt = Infinity;
      c.disconnect(this.now, DisconnectReason.TransportLost, `no transport could resume the session within ${this.resumeTimeout} ms`);
    }
  }

  private onCandidate(path: P, cand: Candidate, datagram: Uint8Array): void {
    const c = this.conn!;
    if (packetKindOf(datagram) !== PacketKind.Control) {
      if (cand.early.length < MAX_EARLY) cand.early.push(datagram.slice());
      return;
    }
    let p;
    try {
      p = decodeControl(datagram);
    } catch {
      return;
    }
    if (p.type === 'resumed' && p.connectionId === c.connectionId) {
      this.candidates.delete(path);
      const previous = this.currentPath;
      if (previous !== undefined) this.others.add(previous);
      this.currentPath = path;
      this.lastArrival = this.now;
      this.silentReported = false;
      this.lostAt = Infinity;
      c.transportChanged(this.now, cand.reliable);
      this.events.push({ type: 'path-changed', path, previous });
      for (const d of cand.early) c.handle(d, this.now);
      this.drain();
    } else if (p.type === 'reject' && p.nonce === c.connectionId) {
      this.candidates.delete(path);
      this.events.push({ type: 'path-refused', path, reason: p.text || `reason ${p.reason}` });
    } else if (p.type === 'disconnect' && p.connectionId === c.connectionId) {
      // The server moved the session here and ended it before its RESUMED came: the end is still the session's.
      c.handle(datagram, this.now);
      this.drain();
    }
  }

  /** The connection's events, in order; its end is the endpoint's end. */
  private drain(): void {
    const c = this.conn!;
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      if (e.type === 'connected') this.events.push({ type: 'connected' });
      else if (e.type === 'message') this.events.push({ type: 'message', channel: e.channel, data: e.data });
      else if (e.type === 'disconnected') this.finish(e.reason, e.text, e.by);
    }
  }

  private finish(reason: number, text: string, by: 'local' | 'peer'): void {
    if (this.ended) return;
    this.ended = true;
    // The last DISCONNECT copy (if any) still goes out on the current path.
    const path = this.currentPath;
    if (path !== undefined) for (const datagram of this.conn!.poll(this.now)) this.outbox.push({ path, datagram });
    this.candidates.clear();
    this.others.clear();
    this.lostAt = Infinity;
    this.events.push({ type: 'disconnected', reason, text, by });
  }

  private tick(now: number): void {
    if (now > this.now) this.now = now;
  }
}

function positive(name: string, v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new ConfigError(`${name} must be a positive number, got ${String(v)}`);
  return v;
}
