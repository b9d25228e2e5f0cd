/**
 * The Volley server: one HTTP port (WebRTC signaling, WebSocket, long-polling, GET /volley/info) and one
 * UDP port, every client a Session running the protocol above whichever transport it is on.
 *
 *   const server = new Server({ port: 8080, onAuth: (auth) => ({ accept: true, user: auth }) });
 *   server.onMessage('chat', (session, text) => server.broadcast('chat', text));
 *   await server.listen();
 */

import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';
import {
  Connection, decodeControl, decodeEnvelope, DisconnectReason, encodeControl, encodeEnvelope, encodeRejectFor, packetKindOf,
  PacketKind, PROTOCOL_VERSION, channelIndex, type ControlPacket,
} from '@volley/protocol';
import { HttpHost } from './http-host.js';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './server-options.js';
import { Session, type SendOptions } from './session.js';
import { Scheduler } from './scheduler.js';
import type { TransportKind, TransportLink, TransportServer } from './transport.js';
import { PollingTransport } from './transports/polling.js';
import { UdpTransport } from './transports/udp.js';
import { WebRtcTransport } from './transports/webrtc.js';
import { WebSocketTransport } from './transports/websocket.js';

/** Where a message came from: its channel index. */
export interface MessageInfo {
  channel: number;
}
export type MessageHandler = (session: Session, data: unknown, info: MessageInfo) => void;
export type AnyMessageHandler = (session: Session, type: string, data: unknown, info: MessageInfo) => void;

export class Server {
  readonly options: ResolvedServerOptions;
  private readonly raw: ServerOptions;
  private readonly httpServer: HttpServer;
  private readonly ownsHttp: boolean;
  readonly http: HttpHost;
  private readonly transports: TransportServer[] = [];
  private readonly sessions = new Map<number, Session>();
  private readonly unbound = new Map<TransportLink, NodeJS.Timeout>();
  private readonly handlers = new Map<string, MessageHandler>();
  private readonly scheduler: Scheduler<Session>;
  private connectHandler: (session: Session) => void = () => {};
  private anyHandler: AnyMessageHandler | undefined;
  private disconnectHandler: (session: Session, reason: number, text: string) => void = () => {};
  private errorHandler: (error: unknown, session?: Session) => void = (e) => console.error('volley server:', e);
  private listening = false;

  constructor(options: ServerOptions = {}) {
    this.raw = options;
    this.options = resolveServerOptions(options);
    this.ownsHttp = !options.server;
    this.httpServer = options.server ?? createServer();
    this.http = new HttpHost(this.httpServer);
    this.scheduler = new Scheduler(() => performance.now(), (s) => this.pump(s));
    this.http.route('/volley/info', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
      res.end(JSON.stringify(this.info()));
    });
  }

  // ---- application API ----------------------------------------------------------------------

  /** Handles messages of one type; `data` is the decoded MessagePack value, or the Uint8Array sent raw. */
  onMessage(type: string, handler: MessageHandler): this {
    this.handlers.set(type, handler);
    return this;
  }

  /** Handles every message whose type has no handler of its own (e.g. a relay or an echo server). */
  onAnyMessage(handler: AnyMessageHandler): this {
    this.anyHandler = handler;
    return this;
  }

  onConnect(handler: (session: Session) => void): this {
    this.connectHandler = handler;
    return this;
  }

  onDisconnect(handler: (session: Session, reason: number, text: string) => void): this {
    this.disconnectHandler = handler;
    return this;
  }

  /** Errors thrown by handlers, and unexpected failures; default: console.error. Never crashes the server. */
  onError(handler: (error: unknown, session?: Session) => void): this {
    this.errorHandler = handler;
    return this;
  }

  /** Connected sessions. */
  get clients(): Session[] {
    return [...this.sessions.values()].filter((s) => s.state === 'connected');
  }

  /** Sends one message to many sessions (default: all connected), encoding it once. */
  broadcast(type: string, data?: unknown, options: SendOptions & { to?: Iterable<Session>; except?: Session } = {}): void {
    const raw = data instanceof Uint8Array;
    const envelope = encodeEnvelope(type, raw ? data : msgpackEncode(data ?? null), raw);
    const channel = channelIndex(this.options.channels, options.channel ?? 'reliable-ordered');
    for (const s of options.to ?? this.clients) {
      if (s === options.except || s.state !== 'connected') continue;
      s.connection.send(channel, envelope);
      this.pump(s);
    }
  }

  /** Where the server listens. */
  address(): { host: string; port: number; udpPort: number | undefined; url: string } {
    const a = this.httpServer.address();
    const port = typeof a === 'object' && a ? a.port : this.options.port;
    const udp = this.transports.find((t) => t.kind === 'udp')?.info().port;
    return { host: this.options.host, port, udpPort: typeof udp === 'number' ? udp : undefined, url: `http://${this.options.host}:${port}` };
  }

  /** What clients learn at GET /volley/info. */
  info(): { protocol: number; transports: TransportKind[]; endpoints: Partial<Record<TransportKind, Record<string, unknown>>>; channels: unknown } {
    const endpoints: Partial<Record<TransportKind, Record<string, unknown>>> = {};
    for (const t of this.transports) endpoints[t.kind] = t.info();
    return { protocol: PROTOCOL_VERSION, transports: this.transports.map((t) => t.kind), endpoints, channels: this.options.channels };
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Starts the HTTP server (unless attached to yours) and every enabled transport. */
  async listen(): Promise<this> {
    if (this.listening) return this;
    const o = this.options;
    if (this.ownsHttp) {
      await new Promise<void>((resolve, reject) => {
        this.httpServer.once('error', reject);
        this.httpServer.listen(o.port, o.host, () => {
          this.httpServer.off('error', reject);
          resolve();
        });
      });
    }
    const mtu = this.raw.protocol?.mtu ?? 1200;
    const ctx = { http: this.http, host: o.host, mtu, onLink: (l: TransportLink) => this.onLink(l) };
    for (const kind of o.transports) {
      const t = this.makeTransport(kind);
      await t.start(ctx);
      this.transports.push(t);
    }
    this.listening = true;
    return this;
  }

  /** Closes every session (clients are told why), stops the transports, frees the ports. */
  async close(text = 'server shutting down'): Promise<void> {
    const now = performance.now();
    for (const s of this.sessions.values()) {
      if (s.state === 'connected' || s.state === 'pending') s.connection.disconnect(now, DisconnectReason.ShuttingDown, text);
      this.pump(s);
    }
    // DISCONNECT goes out a few times, 10 ms apart: give it that long (bounded).
    const until = performance.now() + 500;
    while ([...this.sessions.values()].some((s) => s.state === 'disconnecting') && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const s of this.sessions.values()) s.closeLinks();
    this.sessions.clear();
    for (const [link, timer] of this.unbound) {
      clearTimeout(timer);
      link.close();
    }
    this.unbound.clear();
    this.scheduler.stop();
    for (const t of this.transports.splice(0)) await t.stop();
    if (this.ownsHttp && this.httpServer.listening) {
      this.httpServer.closeAllConnections();
      await new Promise<void>((r) => this.httpServer.close(() => r()));
    }
    this.listening = false;
  }

  private makeTransport(kind: TransportKind): TransportServer {
    switch (kind) {
      case 'webrtc':
        return new WebRtcTransport(this.raw.webrtc ?? {});
      case 'websocket':
        return new WebSocketTransport({});
      case 'polling':
        return new PollingTransport(this.raw.polling ?? {});
      case 'udp':
        return new UdpTransport({ port: this.options.udpPort });
    }
  }

  // ---- links and sessions -------------------------------------------------------------------

  private onLink(link: TransportLink): void {
    // A link must say what it is (CONNECT or RESUME) in time, or it is closed: idle links hold nothing.
    const timer = setTimeout(() => {
      this.unbound.delete(link);
      link.close();
    }, this.options.handshakeTimeout);
    timer.unref();
    this.unbound.set(link, timer);
    link.onDatagram = (d) => this.onFirstDatagram(link, d);
    link.onClose = () => {
      clearTimeout(timer);
      this.unbound.delete(link);
    };
  }

  /** Links that have not sent a valid CONNECT or RESUME yet, with their handshake timers. */
  get pendingLinks(): number {
    return this.unbound.size;
  }

  /** A link's first datagram decides what it is: a new session (CONNECT) or a moved one (RESUME). */
  private onFirstDatagram(link: TransportLink, d: Uint8Array): void {
    if (packetKindOf(d) !== PacketKind.Control) return; // data before a session: ignored
    let p: ControlPacket;
    try {
      p = decodeControl(d);
    } catch {
      return;
    }
    if (p.type === 'connect') this.startSession(link, d);
    else if (p.type === 'resume') this.resume(link, p.connectionId, p.token, d.length);
  }

  private bind(link: TransportLink, session: Session): void {
    clearTimeout(this.unbound.get(link));
    this.unbound.delete(link);
    link.onDatagram = (d) => {
      if (packetKindOf(d) === PacketKind.Control) {
        try {
          const p = decodeControl(d);
          if (p.type === 'resume') return this.resume(link, p.connectionId, p.token, d.length);
        } catch {
          // malformed: the connection counts it below
        }
      }
      session.connection.handle(d, performance.now());
      this.pump(session);
    };
    link.onClose = () => {
      session.detach(link);
    };
  }

  private startSession(link: TransportLink, connect: Uint8Array): void {
    const now = performance.now();
    const o = this.options;
    const connection = Connection.server({ ...this.raw.protocol, channels: o.channels, retransmission: !link.reliable });
    if (this.sessions.size >= o.maxSessions) {
      connection.handle(connect, now);
      connection.pollEvent();
      if (connection.state === 'pending') connection.reject(now, DisconnectReason.ServerFull, `server full (${o.maxSessions} sessions)`);
      for (const d of connection.poll(now)) link.send(d);
      return;
    }
    let id = randomInt(1, 0xffff_ffff);
    while (this.sessions.has(id)) id = randomInt(1, 0xffff_ffff);
    const session = new Session(id, connection, o.channels, link, o, now, (s) => this.pump(s));
    this.sessions.set(id, session);
    this.bind(link, session);
    connection.handle(connect, now);
    this.pump(session);
  }

  private resume(link: TransportLink, id: number, token: Uint8Array, size: number): void {
    const session = this.sessions.get(id);
    const ok = session && session.state === 'connected' && timingSafeEqual(Buffer.from(token), Buffer.from(session.connection.sessionToken));
    if (!session || !ok) {
      link.send(encodeRejectFor(size, id, DisconnectReason.UnknownSession, 'unknown session or wrong token'));
      return;
    }
    if (!session.hasLink(link)) {
      session.attach(link);
      this.bind(link, session);
      session.connection.transportChanged(performance.now(), link.reliable);
    }
    link.send(encodeControl({ type: 'resumed', connectionId: id }));
    this.pump(session);
  }

  /** Runs a session's connection: events, then datagrams out, then its next wake-up. */
  private pump(session: Session): void {
    const c = session.connection;
    const now = performance.now();
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      switch (e.type) {
        case 'connect-request':
          void this.authorize(session, e.payload);
          break;
        case 'connected':
          this.safely(() => this.connectHandler(session), session);
          break;
        case 'message':
          this.onSessionMessage(session, e.data, e.channel, now);
          break;
        case 'disconnected':
          this.sessions.delete(session.id);
          this.safely(() => this.disconnectHandler(session, e.reason, e.text), session);
          break;
      }
    }
    session.transmit(c.poll(now));
    if (c.state === 'disconnected') {
      this.scheduler.remove(session);
      // Let the last datagrams (REJECT, DISCONNECT) leave before the links close.
      setTimeout(() => session.closeLinks(), 50).unref();
      return;
    }
    this.scheduler.schedule(session, c.nextTimeout());
  }

  private async authorize(session: Session, payload: Uint8Array): Promise<void> {
    const link = session.link!;
    let verdict;
    try {
      const auth = payload.length ? msgpackDecode(payload) : undefined;
      verdict = this.raw.onAuth ? await this.raw.onAuth(auth, { transport: link.kind, remote: link.remote }) : { accept: true as const };
    } catch (e) {
      verdict = { accept: false as const, reason: e instanceof Error ? e.message : 'authentication failed' };
    }
    const now = performance.now();
    if (session.state !== 'pending') return; // gave up meanwhile
    if (verdict.accept) {
      session.user = verdict.user;
      session.connection.accept(now, session.id, randomBytes(16));
    } else {
      session.connection.reject(now, DisconnectReason.Rejected, verdict.reason ?? 'rejected');
    }
    this.pump(session);
  }

  private onSessionMessage(session: Session, data: Uint8Array, channel: number, now: number): void {
    if (!session.messages.take(1, now) || !session.bytes.take(data.length, now)) {
      session.connection.disconnect(now, DisconnectReason.RateLimited, 'rate limit exceeded');
      return;
    }
    let type: string;
    let value: unknown;
    try {
      const env = decodeEnvelope(data);
      type = env.type;
      value = env.raw ? env.body.slice() : msgpackDecode(env.body);
    } catch (e) {
      this.errorHandler(new Error(`malformed message from session ${session.id}: ${(e as Error).message}`), session);
      return;
    }
    const handler = this.handlers.get(type);
    if (handler) this.safely(() => handler(session, value, { channel }), session);
    else if (this.anyHandler) this.safely(() => this.anyHandler!(session, type, value, { channel }), session);
    else this.errorHandler(new Error(`no handler for message type '${type}' (session ${session.id})`), session);
  }

  private safely(f: () => void, session: Session): void {
    try {
      f();
    } catch (e) {
      this.errorHandler(e, session);
    }
  }
}
