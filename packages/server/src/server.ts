/**
 * The Volley server: one HTTP port (WebRTC signaling, WebSocket, long-polling, GET /volley/info) and one
 * UDP port, every client a Session running the protocol above whichever transport it is on.
 *
 *   const server = new Server({ port: 8080, onAuth: (auth) => ({ accept: true, user: auth }) });
 *   server.onMessage('chat', (session, text) => server.broadcast('chat', text));
 *   await server.listen();
 *
 * A thin host: the life of every session (routing a link's first datagram, resume checks, server full, ids,
 * handshake and idle timeouts, the end of a session) is decided by @volley/protocol's ServerEndpoint; this
 * class moves bytes between it and the transports, keeps one timer for it, and calls the application.
 */

import { randomFillSync } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import {
  channelIndex,
  decodeMessage,
  decodeValue,
  encodeMessage,
  DisconnectReason,
  isRoomFrame,
  LeaveCode,
  Emitter,
  HOST_MAX_ACK_DELAY,
  MessageRouter,
  PROTOCOL_VERSION,
  constantTimeEqual,
  RunLoop,
  SendError,
  ServerEndpoint,
  type EndpointSession,
  type LoopTimers,
  type RandomSource,
  type ServerEndpointCounters,
  type ServerEndpointEvent,
  type Unsubscribe,
} from '@volley/protocol';
import { HttpHost } from './http-host.js';
import { quantile, type ServerLoad } from './server-load.js';
import { resolveServerOptions, type AuthResult, type ResolvedServerOptions, type ServerOptions } from './server-options.js';
import { ServerError } from './server-error.js';
import { Session, type SendOptions, type SessionHost } from './session.js';
import { RedisMatchmaking } from './cluster/redis-matchmaking.js';
import { Matchmaker } from './rooms/matchmaker.js';
import type { RoomDefinition, RoomClass } from './rooms/room-definition.js';
import { nodeRoomEnvironment } from './rooms/room-environment.js';
import { RoomHub } from './rooms/room-hub.js';
import type { RoomPeer } from './rooms/room-peer.js';
import { sourceOf } from './source-address.js';
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

export type ServerEvents = {
  /** A session is connected (onAuth accepted it). */
  connect: [session: Session];
  /** A connected session ended, for any reason (exactly once per 'connect'). */
  disconnect: [session: Session, reason: number, text: string];
  /** A session moved to another transport (the client resumed it there). */
  transport: [session: Session, kind: TransportKind, previous: TransportKind | undefined];
  /** A handler threw, or a client sent something unusable; never crashes the server. */
  error: [error: unknown, session: Session | undefined];
};

/** How long server.close() waits for the DISCONNECT copies to go out before stopping the transports. */
const CLOSE_GRACE_MS = 1000;

/**
 * The server's event loop for its RunLoop. Timers are unref'd (a listening server is kept alive by its sockets,
 * not by its timers); a run that is due already goes out as a new task (setImmediate), so that I/O and other
 * timers get their turn between runs of a busy endpoint.
 */
const SERVER_TIMERS: LoopTimers = {
  now: () => performance.now(),
  microtask: (run) => queueMicrotask(run),
  after: nodeRoomEnvironment.after,
};

export class Server implements SessionHost {
  readonly options: ResolvedServerOptions;
  readonly http: HttpHost;
  readonly layout: ResolvedServerOptions['channels'];
  private readonly raw: ServerOptions;
  private readonly httpServer: HttpServer;
  private readonly ownsHttp: boolean;
  private readonly transports: TransportServer[] = [];
  private readonly endpoint: ServerEndpoint<TransportLink>;
  private readonly sessions = new Map<EndpointSession<TransportLink>, Session>();
  /** Traffic of the sessions that ended, for load(). */
  private readonly retired = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0 };
  private readonly events = new Emitter<ServerEvents>((e, event) => this.fail(e, undefined, event === 'error'));
  private readonly router = new MessageRouter<MessageHandler, AnyMessageHandler>();
  private readonly loop = new RunLoop((now) => this.step(now), SERVER_TIMERS);
  /** Room types, rooms and their listings (docs/rooms.md). */
  readonly matchmaker: Matchmaker;
  private readonly hub: RoomHub;
  private readonly peers = new WeakMap<Session, RoomPeer>();
  private readonly sessionOfPeer = new WeakMap<RoomPeer, Session>();
  private listening = false;
  private closing = false;
  /** Matchmaking shared through Redis (the `redis` option), once listening. */
  private redis: RedisMatchmaking | undefined;

  constructor(options: ServerOptions = {}) {
    this.raw = options;
    this.options = resolveServerOptions(options);
    this.layout = this.options.channels;
    this.ownsHttp = !options.server;
    this.httpServer = options.server ?? createServer();
    this.http = new HttpHost(this.httpServer, options.http);
    this.endpoint = new ServerEndpoint<TransportLink>({
      connection: {
        ...options.protocol,
        maxAckDelay: options.protocol?.maxAckDelay ?? HOST_MAX_ACK_DELAY, // acks of inputs ride on the next state
        channels: this.options.channels,
        maxSendBuffer: this.options.maxSendBuffer,
      },
      maxSessions: this.options.maxSessions,
      handshakeTimeout: this.options.handshakeTimeout,
      packetsPerSecond: this.options.packetsPerSecond,
      bytesPerSecond: this.options.bytesPerSecond,
      maxSessionsPerSource: this.options.maxSessionsPerSource,
      maxPendingLinksPerSource: this.options.maxPendingLinksPerSource,
      newSessionsPerSecondPerSource: this.options.newSessionsPerSecondPerSource,
      random: cryptoRandom(),
    });
    this.matchmaker = new Matchmaker(
      {
        env: nodeRoomEnvironment,
        layout: this.layout,
        maxMessageDepth: this.options.maxMessageDepth,
        report: (e, client, what) => this.roomFailed(e, client?.peer, what),
        forget: (peer, room) => this.hub.forget(peer, room),
        clients: () => this.endpoint.sessionCount,
      },
      { maxClients: this.options.maxSessions, ...options.rooms },
    );
    this.hub = new RoomHub(
      this.matchmaker,
      {
        maxRoomsPerSession: this.options.maxRoomsPerSession,
        maxPendingJoins: this.options.maxPendingJoins,
        joinsPerSecond: this.options.joinsPerSecond,
      },
      this.options.maxMessageDepth,
      (peer, why) => {
        const s = this.sessionOfPeer.get(peer);
        if (s?.state === 'connected') this.malformedMessage(s, `room frame: ${why}`);
      },
      (peer) => ({ user: peer.user, session: peer.id, transport: peer.transport, remote: peer.remote }),
    );
    this.http.route(
      '/volley/info',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify(this.info()));
      },
      { exact: true },
    );
    const token = this.options.loadToken;
    if (token !== undefined) {
      const expected = new TextEncoder().encode(`Bearer ${token}`);
      this.http.route(
        '/volley/load',
        (req, res) => {
          const given = new TextEncoder().encode(req.headers.authorization ?? '');
          if (!constantTimeEqual(given, expected)) {
            res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' });
            res.end('a load token is required (Authorization: Bearer <token>)\n');
            return;
          }
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify(this.load()));
        },
        { exact: true },
      );
    }
  }

  /** What this process carries and costs now (see server-load.ts): sessions, rooms, traffic, CPU, tick times. */
  load(): ServerLoad {
    const traffic = { ...this.retired };
    for (const s of this.sessions.values()) {
      const st = s.connection.stats();
      traffic.bytesIn += st.bytesReceived;
      traffic.bytesOut += st.bytesSent;
      traffic.packetsIn += st.packetsReceived;
      traffic.packetsOut += st.packetsSent;
    }
    const rooms = this.matchmaker.localRooms;
    const steps: number[] = [];
    let lateRuns = 0;
    let dropped = 0;
    let roomClients = 0;
    for (const r of rooms) {
      roomClients += r.seats;
      for (const d of r.recentSteps()) steps.push(d);
      lateRuns += r.tickHealth?.lateRuns ?? 0;
      dropped += r.tickHealth?.dropped ?? 0;
    }
    steps.sort((a, b) => a - b);
    const cpu = process.cpuUsage();
    return {
      at: performance.now(),
      processId: this.matchmaker.processId,
      cpuMicros: { user: cpu.user, system: cpu.system },
      sessions: this.sessions.size,
      rooms: rooms.length,
      roomClients,
      ...traffic,
      ticks: { samples: steps.length, p50: quantile(steps, 0.5), p99: quantile(steps, 0.99), max: steps.at(-1) ?? NaN, lateRuns, dropped },
    };
  }

  // ---- application API ----------------------------------------------------------------------

  /** Listens to a server event; returns the function that stops listening. Any number of listeners. */
  on<K extends keyof ServerEvents>(event: K, listener: (...args: ServerEvents[K]) => void): Unsubscribe {
    return this.events.on(event, listener);
  }

  /** Handles messages of one type; `data` is the decoded MessagePack value, or the Uint8Array sent raw. */
  onMessage(type: string, handler: MessageHandler): Unsubscribe {
    return this.router.on(type, handler);
  }

  /** Handles every message whose type has no handler of its own (e.g. a relay or an echo server). */
  onAnyMessage(handler: AnyMessageHandler): Unsubscribe {
    return this.router.onAny(handler);
  }

  /** A session is connected. Messages sent from here reach the client (it may register handlers after `await connect()`). */
  onConnect(handler: (session: Session) => void): Unsubscribe {
    return this.on('connect', handler);
  }

  /** A connected session ended: exactly once per onConnect, whatever ended it, with the reason code and text. */
  onDisconnect(handler: (session: Session, reason: number, text: string) => void): Unsubscribe {
    return this.on('disconnect', handler);
  }

  /** Errors thrown by handlers and unusable client messages; without a listener they go to console.error. */
  onError(handler: (error: unknown, session?: Session) => void): Unsubscribe {
    return this.on('error', handler);
  }

  /**
   * Registers a room type (docs/rooms.md): clients join rooms of it with `client.joinOrCreate(name, options)`.
   * Returns its definition, for `filterBy` and `sortBy`.
   */
  define(name: string, roomClass: RoomClass, defaultOptions?: Record<string, unknown>): RoomDefinition {
    return this.matchmaker.define(name, roomClass, defaultOptions);
  }

  /** Connected sessions (never ones that are closing or ended). */
  get clients(): Session[] {
    const out: Session[] = [];
    for (const s of this.sessions.values()) if (s.state === 'connected') out.push(s);
    return out;
  }

  /** Sessions in the table (being authorized, connected, closing): what `limits.maxSessions` counts. */
  get sessionCount(): number {
    return this.endpoint.sessionCount;
  }

  /** Links that have not sent a valid CONNECT or RESUME yet (each closed after limits.handshakeTimeout). */
  get pendingLinks(): number {
    return this.endpoint.unboundLinks;
  }

  /** What the endpoint refused or cut and why: server full, per-source caps, rate limits, handshake timeouts. */
  get endpointCounters(): Readonly<ServerEndpointCounters> {
    return this.endpoint.counters;
  }

  /** Messages received of a type no handler took, by type (each type is warned about once). */
  get unhandledMessages(): ReadonlyMap<string, number> {
    return this.router.unhandled;
  }

  /** The server's clock (ms, performance.now()): what clients read with `client.serverTime()`. */
  now(): number {
    return performance.now();
  }

  /**
   * Sends one message to many sessions (default: all connected), encoded once. Like session.send, what is
   * sent in one turn of the event loop leaves together. If some sessions cannot take it (SendError), the
   * others still get it and an AggregateError of the failures is thrown.
   */
  broadcast(type: string, data?: unknown, options: SendOptions & { to?: Iterable<Session>; except?: Session } = {}): void {
    const bytes = encodeMessage(type, data);
    const channel = channelIndex(this.layout, options.channel ?? 'reliable-ordered');
    const failed: Error[] = [];
    const now = this.now();
    for (const s of options.to ?? this.clients) {
      if (s === options.except || s.state !== 'connected') continue;
      try {
        this.endpoint.send(s.endpointSession, channel, bytes, now);
      } catch (e) {
        if (!(e instanceof SendError)) throw e;
        failed.push(new Error(`session ${s.id}: ${e.message}`, { cause: e }));
      }
    }
    this.schedule();
    if (failed.length > 0) throw new AggregateError(failed, `broadcast '${type}' failed for ${failed.length} session(s)`);
  }

  /** Where the server listens (an IPv6 host is bracketed in the URL). */
  address(): { host: string; port: number; udpPort: number | undefined; url: string } {
    const a = this.httpServer.address();
    const port = typeof a === 'object' && a ? a.port : this.options.port;
    const udp = this.transports.find((t) => t.kind === 'udp')?.info()['port'];
    const host = this.options.host;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    return { host, port, udpPort: typeof udp === 'number' ? udp : undefined, url: `http://${urlHost}:${port}` };
  }

  /** What clients learn at GET /volley/info. */
  info(): {
    protocol: number;
    transports: TransportKind[];
    endpoints: Partial<Record<TransportKind, Record<string, unknown>>>;
    channels: unknown;
  } {
    const endpoints: Partial<Record<TransportKind, Record<string, unknown>>> = {};
    for (const t of this.transports) endpoints[t.kind] = t.info();
    return { protocol: PROTOCOL_VERSION, transports: this.transports.map((t) => t.kind), endpoints, channels: this.layout };
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
    try {
      for (const t of this.makeTransports()) {
        await t.start(ctx);
        this.transports.push(t);
      }
    } catch (e) {
      // Nothing half-started stays bound: the transports that did start and our HTTP port are freed.
      await this.stopTransports();
      if (this.ownsHttp && this.httpServer.listening) await new Promise<void>((r) => this.httpServer.close(() => r()));
      throw e;
    }
    try {
      await this.joinCluster();
    } catch (e) {
      await this.stopTransports();
      if (this.ownsHttp && this.httpServer.listening) await new Promise<void>((r) => this.httpServer.close(() => r()));
      throw e;
    }
    this.listening = true;
    this.closing = false;
    return this;
  }

  /** With `redis`: connects, shares matchmaking, and heartbeats as reachable at publicUrl. */
  private async joinCluster(): Promise<void> {
    const given = this.raw.redis;
    if (given !== undefined && !this.redis) {
      const redis = new RedisMatchmaking(typeof given === 'string' ? { url: given } : given, this.matchmaker.processId, (e, what) =>
        this.fail(new ServerError('redis', `${what} (${e instanceof Error ? e.message : String(e)})`, undefined, { cause: e }), undefined),
      );
      await redis.open();
      this.redis = redis;
      this.matchmaker.attach(redis);
    }
    await this.matchmaker.start(this.raw.publicUrl ?? this.address().url);
  }

  /**
   * Takes no new rooms (placement sends them to other processes) and lets the rooms here run to their end;
   * resolves when none is left, or after `timeoutMs` with the number still running. Then close() the server.
   */
  drain(timeoutMs?: number): Promise<number> {
    return this.matchmaker.drain(timeoutMs);
  }

  /**
   * Closes every session (each client is told why, and onDisconnect runs for each), stops the transports,
   * frees the ports. Resolves when done.
   */
  async close(text = 'server shutting down'): Promise<void> {
    if (!this.listening) return;
    this.closing = true;
    // Rooms first: every client gets its LEFT and every room its onLeave/onDispose while sessions still run.
    await this.matchmaker.shutdown(LeaveCode.Disposed, text);
    await this.redis?.close();
    this.redis = undefined;
    this.endpoint.closeAll(DisconnectReason.ShuttingDown, text, this.now());
    this.loop.runNow();
    // DISCONNECT goes out a few times, 10 ms apart: the endpoint's timers do that; wait for it (bounded).
    const until = this.now() + CLOSE_GRACE_MS;
    while (this.endpoint.sessionCount > 0 && this.now() < until) await new Promise((r) => setTimeout(r, 5));
    this.loop.runNow();
    this.loop.disarm();
    await this.stopTransports();
    if (this.ownsHttp && this.httpServer.listening) {
      this.httpServer.closeAllConnections();
      await new Promise<void>((r) => this.httpServer.close(() => r()));
    }
    this.listening = false;
  }

  private makeTransports(): TransportServer[] {
    return this.options.transports.map((t) => {
      if (typeof t !== 'string') return t;
      switch (t) {
        case 'webrtc':
          return new WebRtcTransport(this.raw.webrtc ?? {});
        case 'websocket':
          return new WebSocketTransport(this.raw.websocket ?? {});
        case 'polling':
          return new PollingTransport(this.raw.polling ?? {});
        case 'udp':
          return new UdpTransport({ ...this.raw.udp, port: this.options.udpPort });
      }
    });
  }

  private async stopTransports(): Promise<void> {
    for (const t of this.transports.splice(0)) await t.stop();
  }

  // ---- the host loop ------------------------------------------------------------------------

  private onLink(opened: TransportLink): void {
    if (this.closing) return opened.close();
    const link = this.options.wrapLink ? this.options.wrapLink(opened) : opened;
    this.endpoint.linkOpened(link, link.reliable, this.now(), sourceOf(link.remote));
    link.onDatagram = (d) => {
      this.endpoint.handle(link, d, this.now());
      this.schedule();
    };
    link.onClose = () => {
      this.endpoint.linkClosed(link, this.now());
      this.schedule();
    };
    this.schedule();
  }

  /** Runs the endpoint once the current task is done: everything sent or received meanwhile goes together. */
  private schedule(): void {
    this.loop.schedule();
  }

  /** Datagrams out, events to the application; returns the endpoint's next deadline (the loop arms it). */
  private step(now: number): number {
    for (const t of this.endpoint.poll(now)) t.link.send(t.datagram);
    for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) this.onEvent(e);
    // Handlers may have sent (the endpoint is due again at once): that goes out in the same turn.
    for (const t of this.endpoint.poll(now)) t.link.send(t.datagram);
    return this.endpoint.nextTimeout();
  }

  private onEvent(e: ServerEndpointEvent<TransportLink>): void {
    switch (e.type) {
      case 'connect-request': {
        const session = new Session(this, e.session, this.options);
        this.sessions.set(e.session, session);
        void this.authorize(session, e.link, e.payload);
        return;
      }
      case 'connected': {
        const s = this.sessions.get(e.session);
        if (s) this.events.emit('connect', s);
        return;
      }
      case 'message': {
        const s = this.sessions.get(e.session);
        if (s) this.onSessionMessage(s, e.data, e.channel);
        return;
      }
      case 'moved': {
        const s = this.sessions.get(e.session);
        if (s) this.events.emit('transport', s, e.link.kind, e.previous?.kind);
        return;
      }
      case 'disconnected': {
        const s = this.sessions.get(e.session);
        this.sessions.delete(e.session);
        if (s) {
          const st = s.connection.stats();
          this.retired.bytesIn += st.bytesReceived;
          this.retired.bytesOut += st.bytesSent;
          this.retired.packetsIn += st.packetsReceived;
          this.retired.packetsOut += st.packetsSent;
          const peer = this.peers.get(s);
          if (peer) this.hub.peerEnded(peer);
          this.events.emit('disconnect', s, e.reason, e.text);
        }
        return;
      }
      case 'refused':
        this.sessions.delete(e.session);
        return;
      case 'close-link':
        e.link.close();
        return;
    }
  }

  private async authorize(session: Session, link: TransportLink, payload: Uint8Array): Promise<void> {
    let verdict: AuthResult;
    const onAuth = this.raw.onAuth;
    try {
      // Without onAuth nobody reads the payload: it is not decoded at all (no cost for hostile bytes).
      verdict = onAuth
        ? await onAuth(decodeValue(payload, this.options.maxMessageDepth), { transport: link.kind, remote: link.remote })
        : { accept: true };
    } catch (e) {
      verdict = { accept: false, reason: e instanceof Error ? e.message : 'authentication failed' };
    }
    const es = session.endpointSession;
    if (verdict.accept) {
      session.user = verdict.user;
      this.endpoint.accept(es, this.now());
    } else {
      this.endpoint.reject(es, DisconnectReason.Rejected, verdict.reason ?? 'rejected', this.now());
    }
    this.schedule();
  }

  private onSessionMessage(session: Session, data: Uint8Array, channel: number): void {
    if (session.state !== 'connected') return; // closing (e.g. cut for its rate): the rest of its messages are moot
    const now = this.now();
    // Datagrams and their bytes are the endpoint's limits (every datagram counts); this one is messages.
    if (!session.messages.take(1, now)) {
      const text = `rate limit: over ${this.options.messagesPerSecond} messages/s`;
      this.endpoint.close(session.endpointSession, DisconnectReason.RateLimited, text, now);
      this.schedule();
      return;
    }
    if (isRoomFrame(data)) {
      this.hub.receive(this.peerOf(session), data);
      return;
    }
    let message;
    try {
      message = decodeMessage(data, this.options.maxMessageDepth);
    } catch (e) {
      this.malformedMessage(session, (e as Error).message);
      return;
    }
    const info = { channel };
    const routed = this.router.route(
      message.type,
      (h) => this.safely(() => h(session, message.data, info), session),
      (h) => this.safely(() => h(session, message.type, message.data, info), session),
    );
    if (routed === 'first-unhandled') {
      console.warn(`volley server: no handler for message type '${message.type}' (warned once; counted in server.unhandledMessages)`);
    }
  }

  /** A message that is no message: dropped and counted; reported once per session; the session is cut if it persists. */
  private malformedMessage(session: Session, why: string): void {
    this.report(new ServerError('malformed-message', `malformed message from session ${session.id}: ${why}`, session));
    const n = session.malformedMessages; // counted by report()
    if (n > this.options.maxMalformedMessages) {
      this.endpoint.close(session.endpointSession, DisconnectReason.ProtocolViolation, `${n} malformed messages`, this.now());
      this.schedule();
    }
  }

  /** The room layer's handle on a session (made once per session). */
  private peerOf(session: Session): RoomPeer {
    let peer = this.peers.get(session);
    if (!peer) {
      const sendTo = (channel: number, bytes: Uint8Array): boolean => this.trySendTo(session, channel, bytes);
      peer = {
        id: session.id,
        get user() {
          return session.user;
        },
        get transport() {
          return session.transport;
        },
        get remote() {
          return session.link?.remote ?? '';
        },
        send: sendTo,
        rtt: () => session.connection.stats().rtt.smoothed,
      };
      this.peers.set(session, peer);
      this.sessionOfPeer.set(peer, session);
    }
    return peer;
  }

  private roomFailed(error: unknown, peer: RoomPeer | undefined, what: string): void {
    const session = peer && this.sessionOfPeer.get(peer);
    const text = error instanceof Error ? error.message : String(error);
    const e = new ServerError('room-failed', `${what} failed: ${text}`, session, { cause: error });
    if (session) this.report(e);
    else this.fail(e, undefined);
  }

  private safely(f: () => void, session: Session): void {
    try {
      f();
    } catch (e) {
      const code = e instanceof SendError ? 'send-failed' : 'handler-failed';
      const what = e instanceof Error ? e.message : String(e);
      this.report(
        new ServerError(code, `${code === 'send-failed' ? 'a send' : 'a handler'} failed for session ${session.id}: ${what}`, session, {
          cause: e,
        }),
      );
    }
  }

  /** Counts a session's error; only its first of each code reaches onError (or console.error), naming the rest as counted. */
  private report(error: ServerError): void {
    const s = error.session;
    if (s) {
      const n = (s.errorCounts[error.code] = (s.errorCounts[error.code] ?? 0) + 1);
      if (n > 1) return;
      error.message += ` (further '${error.code}' errors of this session are counted in session.errorCounts, not reported)`;
    }
    this.fail(error, s);
  }

  private fail(error: unknown, session: Session | undefined, inErrorListener = false): void {
    if (inErrorListener || this.events.count('error') === 0) console.error('volley server:', error);
    else this.events.emit('error', error, session);
  }

  // ---- SessionHost ----------------------------------------------------------------------------

  /** @internal */
  sendTo(session: Session, channel: number, bytes: Uint8Array): void {
    this.endpoint.send(session.endpointSession, channel, bytes, this.now());
    this.schedule();
  }

  /** @internal */
  trySendTo(session: Session, channel: number, bytes: Uint8Array): boolean {
    if (!this.endpoint.trySend(session.endpointSession, channel, bytes, this.now())) return false;
    this.schedule();
    return true;
  }

  /** @internal */
  closeSession(session: Session, reason: number, text: string): void {
    this.endpoint.close(session.endpointSession, reason, text, this.now());
    this.schedule();
  }

  /** @internal */
  dropSessionLink(session: Session): void {
    this.endpoint.dropLink(session.endpointSession, this.now())?.close();
    this.schedule();
  }
}

/** The server's randomness (session ids and tokens): the OS's cryptographic source, drawn in batches. */
function cryptoRandom(): RandomSource {
  const pool = new Uint32Array(64);
  let next = pool.length;
  return {
    nextU32(): number {
      if (next >= pool.length) {
        randomFillSync(pool);
        next = 0;
      }
      return pool[next++]!;
    },
  };
}
