/**
 * The Volley client: connects over the best transport the network allows, runs the session over it, moves
 * it to a better transport when one opens and to another when it dies, and exposes messages and lag figures.
 * Same API in browsers and Node (index.ts, node.ts).
 *
 *   const client = new Client(url, { auth });      // or: const client = await connect(url, { auth })
 *   client.onMessage('welcome', (data) => …);      // handlers may be registered before connecting
 *   await client.connect();
 *
 * A thin host: the session's life (handshake, resuming on another transport, silence, the end of the session)
 * is @volley/protocol's ClientEndpoint; which transports to open when is transport-race.ts; moving to another
 * transport is migration.ts. This class moves bytes and time between them and calls the application.
 */

import {
  channelIndex,
  ClientEndpoint,
  decodeMessage,
  MessageRouter,
  DisconnectReason,
  Emitter,
  encodeMessage,
  encodeValue,
  isRoomFrame,
  HOST_MAX_ACK_DELAY,
  PROTOCOL_VERSION,
  reasonName,
  RunLoop,
  SendError,
  STANDARD_CHANNELS,
  type ChannelChoice,
  type ChannelOptions,
  type ClientEndpointEvent,
  type ConnectionStats,
  type LoopTimers,
  type RandomSource,
  type Unsubscribe,
} from '@volley/protocol';
import type { Schema } from '@colyseus/schema';
import { resolveConnectOptions, type ConnectOptions, type ResolvedConnectOptions } from './client-options.js';
import { ConnectError, connectErrorCode, type TransportFailure } from './connect-error.js';
import { Migration } from './migration.js';
import { ClientRooms, type RoomAvailable, type StateClass } from './rooms/client-rooms.js';
import type { Room } from './rooms/room.js';
import { RoomError } from './rooms/room-error.js';
import { fetchInfo } from './server-info.js';
import type { ClientTransport, ServerInfo, TransportFactory, TransportKind } from './transport.js';
import { TransportRace } from './transport-race.js';

export type ClientEvents = {
  /** The session moved to another transport (`reason`: why: an upgrade, or why the previous one was left). */
  transport: [kind: TransportKind, previous: TransportKind, reason: string];
  /** A transport could not be used (failed to open, or refused to resume the session), with why. */
  'transport-failed': [kind: TransportKind, reason: string];
  /** The session ended: exactly once, whatever ended it (server, timeout, no transport left, close()). Final. */
  disconnect: [reason: number, text: string];
  /** Every statsInterval ms. */
  stats: [stats: ClientStats];
  /** A handler threw, or the server sent something unusable; never thrown at you. */
  error: [error: unknown];
};

export interface ClientStats extends ConnectionStats {
  transport: TransportKind;
  /** Messages of a type no handler took, by type. */
  unhandledMessages: Record<string, number>;
  /** Messages from the server that were no message (bad envelope or MessagePack): dropped. */
  malformedMessages: number;
}

export interface SendOptions {
  /** Channel by index or kind. Default 'reliable-ordered'. */
  channel?: ChannelChoice;
}

type Timer = ReturnType<typeof setTimeout>;
type Factories = Partial<Record<TransportKind, TransportFactory>>;

/** The browser's and Node's event loop, for the client's RunLoop. */
const CLIENT_TIMERS: LoopTimers = {
  now: () => performance.now(),
  microtask: (run) => queueMicrotask(run), // (called bare: a browser refuses queueMicrotask off `window`)
  after: (ms, run) => {
    const timer = setTimeout(run, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

/** How long close() waits for the DISCONNECT copies to go out, ms. */
const CLOSE_GRACE_MS = 200;

export class Client {
  /** Why each transport that was tried and not used failed, in order. */
  readonly failures: TransportFailure[] = [];
  readonly options: ResolvedConnectOptions;
  private readonly base: URL;
  private readonly emitter = new Emitter<ClientEvents>((e, event) => this.fail(e, event === 'error'));
  private readonly router = new MessageRouter<(data: unknown) => void, (type: string, data: unknown) => void>();
  private readonly random: RandomSource;
  private endpoint: ClientEndpoint<ClientTransport> | undefined;
  private info: ServerInfo | undefined;
  private layout: readonly ChannelOptions[] = STANDARD_CHANNELS;
  private race: TransportRace | undefined;
  private migration: Migration | undefined;
  /** Open transports that may carry the session if the handshake on the current one fails. */
  private readonly standby: { transport: ClientTransport; rank: number }[] = [];
  private currentRank = Infinity;
  private readonly loop = new RunLoop((now) => this.step(now), CLIENT_TIMERS);
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private handshakeTimer: Timer | undefined;
  private connecting: { resolve: (c: Client) => void; reject: (e: Error) => void } | undefined;
  /** Messages that arrived before the code after `await connect()` could register its handlers. */
  private held: Uint8Array[] | undefined = [];
  /** Messages from the server that were no message (bad envelope or MessagePack). */
  private malformed = 0;
  /** The end of a session that ended while messages were held (reported after them). */
  private endAfterHeld: { reason: number; text: string } | undefined;
  private ended = false;
  private startedConnect = false;
  private readonly roomsOf: ClientRooms;
  /** Sessions to other server processes, for rooms a join was redirected to (docs/scaling.md), by origin. */
  private readonly others = new Map<string, Promise<Client>>();
  private readonly opened = new Map<string, Client>();
  /** A session opened for a redirect follows none itself: a join is redirected once. */
  private followsRedirects = true;

  /** A client for the server at `url` (its HTTP address). Nothing happens until connect(). */
  constructor(
    url: string | URL,
    options: ConnectOptions = {},
    private readonly builtins: Factories = {},
    private readonly defaultOrder: readonly TransportKind[] = ['webrtc', 'websocket', 'polling'],
    random: RandomSource = webCryptoRandom(),
  ) {
    this.base = new URL(url);
    this.options = resolveConnectOptions(options);
    this.random = random;
    this.roomsOf = new ClientRooms({
      send: (channel, bytes) => {
        if (!this.endpoint || this.state !== 'connected') throw new SendError('closed', 'the client is not connected');
        this.endpoint.send(channel, bytes, performance.now());
        this.schedule();
      },
      channel: (choice) => channelIndex(this.layout, choice),
      rtt: () => this.rtt,
      serverTime: () => this.serverTime(),
      defer: (run) => void setTimeout(run, 0),
      origin: this.base.origin,
      maxMessageDepth: this.options.maxMessageDepth,
      report: (e) => this.fail(e),
      redirect: (to, joinOptions, State, revive) => {
        if (!this.followsRedirects) return Promise.reject(new RoomError('failed', `the join was redirected a second time (to ${to.url})`));
        return this.other(to.url).then((c) => c.roomsOf.join(to.method, to.target, joinOptions, State, revive));
      },
    });
    this.given = options;
  }

  private readonly given: ConnectOptions;

  /** The session to the server process at `url` (opened on first use, with this client's options). */
  private other(url: string): Promise<Client> {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      return Promise.reject(new RoomError('failed', `the server redirected to an unusable URL: ${url}`));
    }
    if (this.ended) return Promise.reject(new RoomError('session-ended', 'the client is closed'));
    let c = this.others.get(origin);
    if (!c) {
      const Ctor = this.constructor as new (...a: ConstructorParameters<typeof Client>) => Client;
      const child = new Ctor(url, this.given, this.builtins, this.defaultOrder, this.random);
      child.followsRedirects = false;
      child.on('error', (e) => this.fail(e));
      child.on('disconnect', () => {
        if (this.others.get(origin) === c) this.others.delete(origin);
        if (this.opened.get(origin) === child) this.opened.delete(origin);
      });
      c = child.connect().then(
        (connected) => {
          this.opened.set(origin, connected);
          return connected;
        },
        (e: unknown) => {
          this.others.delete(origin);
          throw new RoomError('failed', `cannot reach the server process the room is in (${url}): ${(e as Error)?.message ?? String(e)}`);
        },
      );
      this.others.set(origin, c);
    }
    return c;
  }

  // ---- state and figures --------------------------------------------------------------------

  /** The transport the session is on now. */
  get transport(): TransportKind {
    const t = this.endpoint?.path ?? this.migration?.lastPath;
    return t?.kind ?? this.options.transports?.[0] ?? this.defaultOrder[0]!;
  }

  /** 'idle' before connect(), 'connecting', 'connected', 'disconnecting', then 'disconnected' for good. */
  get state(): string {
    if (this.ended) return 'disconnected';
    return this.endpoint?.state ?? (this.startedConnect ? 'connecting' : 'idle');
  }

  /** Smoothed round-trip time, ms: the same figure as stats().rtt.smoothed (from the handshake, then acks). */
  get rtt(): number {
    return this.endpoint?.connection.stats().rtt.smoothed ?? 0;
  }

  /** Jitter of the round trip (RFC 3550 estimator over pings), ms. */
  get jitter(): number {
    return this.endpoint?.connection.stats().jitter ?? 0;
  }

  /** Loss each way over the recent pings, 0..1. */
  get loss(): { up: number; down: number } {
    const s = this.endpoint?.connection.stats();
    return { up: s?.lossUp ?? 0, down: s?.lossDown ?? 0 };
  }

  /**
   * The server's clock now (its `server.now()`, ms), from the clock offset: known from the handshake (within
   * RTT/2) the moment connect() resolves, refined by every ping. stats().ping.clockSamples says on how many
   * samples it rests.
   */
  serverTime(): number {
    const now = performance.now();
    return this.endpoint ? this.endpoint.connection.peerTime(now) : now;
  }

  stats(): ClientStats {
    const c = this.endpoint?.connection;
    if (!c) throw new Error('stats() before connect()');
    return {
      ...c.stats(performance.now()),
      transport: this.transport,
      unhandledMessages: Object.fromEntries(this.router.unhandled),
      malformedMessages: this.malformed,
    };
  }

  // ---- messages and events ------------------------------------------------------------------

  /** Sends a message: structured data is MessagePack-encoded, a Uint8Array goes through untouched. Throws SendError. */
  send(type: string, data?: unknown, options: SendOptions = {}): void {
    if (!this.endpoint || this.state === 'connecting') throw new Error('send() before the client is connected (await connect() first)');
    this.endpoint.send(channelIndex(this.layout, options.channel ?? 'reliable-ordered'), encodeMessage(type, data), performance.now());
    this.schedule();
  }

  /**
   * send() for a hot path (inputs every frame): false, with no exception, when the connection cannot hold the
   * message now (send() would throw SendError 'backpressure'; an unreliable message is dropped instead); true
   * when queued. Other mistakes still throw, as in send().
   */
  trySend(type: string, data?: unknown, options: SendOptions = {}): boolean {
    if (!this.endpoint || this.state === 'connecting') throw new Error('trySend() before the client is connected (await connect() first)');
    const queued = this.endpoint.trySend(
      channelIndex(this.layout, options.channel ?? 'reliable-ordered'),
      encodeMessage(type, data),
      performance.now(),
    );
    if (queued) this.schedule();
    return queued;
  }

  // ---- rooms (docs/rooms.md) ------------------------------------------------------------------

  /**
   * Joins the first available room of type `name` whose filters match `options`, or creates one. Resolves
   * once the room's full state is here. `State` (the state's schema class) types `room.state`; without it
   * the client builds the classes from what the server describes (Reflection).
   */
  joinOrCreate<S extends Schema = Schema>(name: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.roomsOf.join('joinOrCreate', name, options, State);
  }

  /** Creates a new room of type `name` and joins it. */
  create<S extends Schema = Schema>(name: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.roomsOf.join('create', name, options, State);
  }

  /** Joins an existing room of type `name` (RoomError 'no-room-found' if none matches). */
  join<S extends Schema = Schema>(name: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.roomsOf.join('join', name, options, State);
  }

  /** Joins the room with this id (private rooms too). */
  joinById<S extends Schema = Schema>(roomId: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.roomsOf.join('joinById', roomId, options, State);
  }

  /**
   * Comes back to a seat the room holds for this client (the room's `allowReconnection`), on this session:
   * - with a **Room** of a client whose session ended: that same Room object comes back to life, with its
   *   handlers and state; the full state is applied over it (`decodeResync`: callbacks fire for what changed
   *   meanwhile) and the messages it sent that the server never got are sent again, once (any it could no
   *   longer keep are reported: RoomError 'lost-messages');
   * - with its **reconnection token** (`room.reconnectionToken`, e.g. kept in sessionStorage across a page
   *   reload): a new Room in the same seat, with the full state.
   */
  reconnect<S extends Schema = Schema>(room: Room<S> | string, State?: StateClass<S>): Promise<Room<S>> {
    if (typeof room === 'string') return this.roomsOf.join('reconnect', room, undefined, State);
    return this.roomsOf.join('reconnect', room.reconnectionToken, undefined, State, room);
  }

  /** Takes a seat the server reserved for this client (`server.matchmaker.reserveSeat`), handed over by any means. */
  consumeSeatReservation<S extends Schema = Schema>(
    reservation: { roomId: string; sessionId: string },
    options?: unknown,
    State?: StateClass<S>,
  ): Promise<Room<S>> {
    return this.roomsOf.join('seat', `${reservation.roomId}:${reservation.sessionId}`, options, State);
  }

  /** Rooms a client could join now (not locked, not private, a seat free), of type `name` or any. */
  getAvailableRooms(name?: string): Promise<RoomAvailable[]> {
    return this.roomsOf.list(name);
  }

  /** The rooms the client is in. */
  get rooms(): readonly Room[] {
    return [...this.roomsOf.all, ...[...this.children].flatMap((c) => c.roomsOf.all)];
  }

  /** The sessions this client opened to other server processes for their rooms (connected ones). */
  private get children(): Client[] {
    return [...this.opened.values()];
  }

  /** Handles messages of one type (any number of handlers); returns the function that removes this one. */
  onMessage(type: string, handler: (data: unknown) => void): Unsubscribe {
    return this.router.on(type, handler);
  }

  /** Every message whose type has no handler of its own. */
  onAnyMessage(handler: (type: string, data: unknown) => void): Unsubscribe {
    return this.router.onAny(handler);
  }

  /** Listens to a client event; returns the function that stops listening. */
  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  /** Stops a listener added with on(). */
  off<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): void {
    this.emitter.off(event, listener);
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /**
   * Connects: fetches the server's info, opens transports (transport-race.ts), and resolves once the session
   * is up. Rejects with a ConnectError (auth refused, server full, nothing reachable…). Once.
   */
  async connect(): Promise<this> {
    if (this.startedConnect) throw new Error('connect() was already called on this client');
    this.startedConnect = true;
    const o = this.options;
    let info: ServerInfo & { channels?: ChannelOptions[] };
    try {
      info = await fetchInfo(this.base, o.openTimeout);
    } catch (e) {
      this.ended = true;
      throw e;
    }
    if (info.protocol !== PROTOCOL_VERSION) {
      // A server of another version may not even read our CONNECT (before version 4 nothing promised where its
      // version sits), so the handshake would only time out: refuse here, by name.
      this.ended = true;
      throw new ConnectError(
        'version-mismatch',
        `the server speaks protocol ${String(info.protocol)}, this client ${PROTOCOL_VERSION}`,
        [],
        DisconnectReason.VersionMismatch,
      );
    }
    this.info = info;
    this.layout = o.channels ?? info.channels ?? [...STANDARD_CHANNELS];
    const kinds: TransportKind[] = [];
    for (const kind of o.transports ?? this.defaultOrder) {
      if (!info.transports.includes(kind)) this.failures.push({ transport: kind, reason: 'not offered by the server' });
      else if (!this.factory(kind)) this.failures.push({ transport: kind, reason: 'not available in this environment' });
      else kinds.push(kind);
    }
    if (kinds.length === 0) {
      this.ended = true;
      throw new ConnectError('no-transport', `no transport to try: ${describe(this.failures)}`, [...this.failures]);
    }
    const done = new Promise<Client>((resolve, reject) => (this.connecting = { resolve, reject }));
    this.race = new TransportRace(
      kinds,
      (kind) => this.make(kind),
      { parallel: o.upgrade, openTimeout: o.openTimeout, fallbackDelay: o.fallbackDelay },
      {
        opened: (t, rank) => this.onOpened(t, rank),
        failed: (kind, reason) => this.onRaceFailure(kind, reason),
      },
    );
    this.race.start();
    await done;
    return this;
  }

  /** Ends the session (the server is told) and frees every transport; 'disconnect' fires (reason Closed). */
  async close(text = ''): Promise<void> {
    const others = [...this.others.values()];
    this.others.clear();
    await Promise.all(others.map((c) => c.then((o) => o.close(text)).catch(() => undefined)));
    if (this.ended) return;
    const e = this.endpoint;
    if (!e || e.state === 'connecting') {
      this.finish(DisconnectReason.Closed, text || 'closed before connecting');
      return;
    }
    e.close(DisconnectReason.Closed, text, performance.now());
    this.loop.runNow();
    const until = performance.now() + CLOSE_GRACE_MS;
    while (!this.ended && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
    if (!this.ended) this.finish(DisconnectReason.Closed, text);
  }

  // ---- connecting ---------------------------------------------------------------------------

  private factory(kind: TransportKind): TransportFactory | undefined {
    return this.options.factories[kind] ?? this.builtins[kind];
  }

  /** @internal A fresh transport of `kind` (wrapped if the options say so). */
  make(kind: TransportKind): ClientTransport {
    const t = this.factory(kind)!(this.base, this.info!);
    return this.options.wrap ? this.options.wrap(t) : t;
  }

  private onOpened(t: ClientTransport, rank: number): void {
    if (this.ended) return t.close();
    const e = this.endpoint;
    if (!e) return this.startHandshake(t, rank);
    if (e.state === 'connecting') {
      this.standby.push({ transport: t, rank });
      return;
    }
    if (rank < this.currentRank && !this.migration?.busy) {
      this.attach(t);
      this.migration?.upgrade(t);
      return;
    }
    t.close();
  }

  private onRaceFailure(kind: TransportKind, reason: string): void {
    this.failures.push({ transport: kind, reason });
    if (this.connecting && !this.endpoint && !this.race?.live && this.standby.length === 0) {
      this.rejectConnect(new ConnectError('no-transport', `no transport worked: ${describe(this.failures)}`, [...this.failures]));
    } else if (!this.connecting) {
      this.emitter.emit('transport-failed', kind, reason);
    }
  }

  private startHandshake(t: ClientTransport, rank: number): void {
    const o = this.options;
    this.endpoint = new ClientEndpoint<ClientTransport>({
      // Acks of states ride on inputs.
      connection: { ...o.protocol, maxAckDelay: o.protocol?.maxAckDelay ?? HOST_MAX_ACK_DELAY, channels: this.layout },
      random: this.random,
      silence: o.transportTimeout,
      ...(o.resumeTimeout !== undefined ? { resumeTimeout: o.resumeTimeout } : {}),
    });
    this.currentRank = rank;
    this.attach(t);
    this.endpoint.connect(t, t.reliable, encodeValue(o.auth), performance.now());
    this.handshakeTimer = setTimeout(() => this.handshakeFailed(t, `no answer to CONNECT within ${o.openTimeout} ms`), o.openTimeout);
    this.loop.runNow();
  }

  /** The handshake on `t` got no answer (or `t` closed): try the next open transport, or let the race go on. */
  private handshakeFailed(t: ClientTransport, reason: string): void {
    if (!this.connecting || this.endpoint?.path !== t) return;
    clearTimeout(this.handshakeTimer);
    this.failures.push({ transport: t.kind, reason });
    this.endpoint = undefined;
    t.close();
    const next = this.standby.sort((a, b) => a.rank - b.rank).shift();
    if (next) return this.startHandshake(next.transport, next.rank);
    if (this.race?.live) return this.race.handshakeFailed(t.kind);
    this.rejectConnect(new ConnectError('no-transport', `no transport worked: ${describe(this.failures)}`, [...this.failures]));
  }

  private connected(): void {
    clearTimeout(this.handshakeTimer);
    for (const s of this.standby.splice(0)) s.transport.close();
    this.race?.stopWorseThan(this.currentRank);
    this.migration = new Migration(this, this.endpoint!, this.migrationOrder());
    const every = this.options.statsInterval;
    if (every > 0) this.statsTimer = setInterval(() => this.emitter.emit('stats', this.stats()), every);
    const waiter = this.connecting;
    this.connecting = undefined;
    waiter?.resolve(this);
    // The code after `await connect()` runs first (a microtask): it may register handlers for what came already.
    setTimeout(() => this.releaseHeld(), 0);
  }

  private rejectConnect(error: Error): void {
    const waiter = this.connecting;
    this.connecting = undefined;
    this.shutdown();
    waiter?.reject(error);
  }

  /** Where to go when the current transport dies: the ones after it in the list first, then the rest. */
  private migrationOrder(): TransportKind[] {
    return (this.options.transports ?? this.defaultOrder).filter((k) => this.info!.transports.includes(k) && this.factory(k));
  }

  // ---- the host loop ------------------------------------------------------------------------

  /** @internal Wires a transport to the endpoint. */
  attach(t: ClientTransport): void {
    t.onDatagram = (d) => {
      this.endpoint?.handle(t, d, performance.now());
      this.schedule();
    };
    t.onClose = (why) => {
      const e = this.endpoint;
      if (!e) return;
      if (e.state === 'connecting' && e.path === t) return this.handshakeFailed(t, `${t.kind} closed: ${why}`);
      this.migration?.closed(t);
      e.pathClosed(t, performance.now());
      this.schedule();
    };
  }

  /** @internal Runs the endpoint once the current task is done. */
  schedule(): void {
    this.loop.schedule();
  }

  /** Datagrams out, events to the application; returns the endpoint's next deadline (the loop arms it). */
  private step(now: number): number {
    const e = this.endpoint;
    if (!e) return Infinity;
    for (const t of e.poll(now)) t.path.send(t.datagram);
    for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) this.onEvent(ev);
    if (this.endpoint !== e) return Infinity;
    for (const t of e.poll(now)) t.path.send(t.datagram);
    return this.ended ? Infinity : e.nextTimeout();
  }

  private onEvent(e: ClientEndpointEvent<ClientTransport>): void {
    switch (e.type) {
      case 'connected':
        return this.connected();
      case 'message':
        if (this.held) this.held.push(e.data);
        else this.dispatch(e.data);
        return;
      case 'path-changed': {
        // After a close the endpoint has no previous path: the migration remembers what the session was on.
        const previous = e.previous ?? this.migration?.lastPath;
        this.currentRank = this.race?.rank(e.path.kind) ?? this.currentRank;
        this.race?.stopWorseThan(this.currentRank);
        const reason = this.migration?.changed(e.path) ?? 'moved';
        e.previous?.close();
        if (previous) this.emitter.emit('transport', e.path.kind, previous.kind, reason);
        return;
      }
      case 'path-refused':
        e.path.close();
        this.failures.push({ transport: e.path.kind, reason: `resume refused: ${e.reason}` });
        this.migration?.refused(e.path);
        this.emitter.emit('transport-failed', e.path.kind, `resume refused: ${e.reason}`);
        return;
      case 'path-lost':
        this.migration?.lost(e.path, e.why);
        return;
      case 'disconnected':
        if (this.connecting) {
          const err = new ConnectError(connectErrorCode(e.reason), `${reasonName(e.reason)}: ${e.text}`, [...this.failures], e.reason);
          if (err.code === 'timeout' || err.code === 'closed') return this.handshakeFailed(this.endpoint!.path!, err.message);
          return this.rejectConnect(err);
        }
        return this.finish(e.reason, e.text);
    }
  }

  /** The session is over: one 'disconnect', then nothing. */
  private finish(reason: number, text: string): void {
    if (this.ended) return;
    const wasConnected = this.endpoint !== undefined && !this.connecting;
    this.shutdown();
    if (this.connecting) {
      this.rejectConnect(new ConnectError('closed', `${reasonName(reason)}: ${text}`, [...this.failures], reason));
      return;
    }
    if (!wasConnected) return;
    this.roomsOf.sessionEnded(`${reasonName(reason)}${text ? `: ${text}` : ''}`);
    // Ended before the code after `await connect()` could listen: it hears the end after what was held.
    if (this.held) this.endAfterHeld = { reason, text };
    else this.emitter.emit('disconnect', reason, text);
  }

  private shutdown(): void {
    if (this.ended) return;
    this.ended = true;
    this.race?.stop();
    this.migration?.stop();
    clearTimeout(this.handshakeTimer);
    this.loop.disarm();
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = undefined;
    const e = this.endpoint;
    if (e) for (const t of e.poll(performance.now())) t.path.send(t.datagram);
    e?.path?.close();
    for (const s of this.standby.splice(0)) s.transport.close();
  }

  // ---- delivering -----------------------------------------------------------------------------

  private releaseHeld(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const d of held) this.dispatch(d);
    const end = this.endAfterHeld;
    this.endAfterHeld = undefined;
    if (end) this.emitter.emit('disconnect', end.reason, end.text);
  }

  private dispatch(data: Uint8Array): void {
    if (isRoomFrame(data)) {
      this.roomsOf.receive(data);
      return;
    }
    let m;
    try {
      m = decodeMessage(data, this.options.maxMessageDepth);
    } catch (e) {
      // Counted; reported once (a hostile or broken server must not flood the log).
      if (++this.malformed === 1)
        this.fail(new Error(`unusable message from the server (further ones are counted): ${(e as Error).message}`));
      return;
    }
    const routed = this.router.route(
      m.type,
      (h) => this.safely(() => h(m.data)),
      (h) => this.safely(() => h(m.type, m.data)),
    );
    if (routed === 'first-unhandled') {
      console.warn(`volley client: no handler for message type '${m.type}' (warned once; counted in stats().unhandledMessages)`);
    }
  }

  private safely(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(error: unknown, inErrorListener = false): void {
    if (inErrorListener || this.emitter.count('error') === 0) console.error('volley client:', error);
    else this.emitter.emit('error', error);
  }

  /** @internal For migration.ts: a transport that could not be used. */
  noteFailure(kind: TransportKind, reason: string): void {
    this.failures.push({ transport: kind, reason });
    this.emitter.emit('transport-failed', kind, reason);
  }

  /** @internal */
  get isEnded(): boolean {
    return this.ended;
  }
}

function describe(failures: TransportFailure[]): string {
  return failures.map((f) => `${f.transport} (${f.reason})`).join('; ');
}

/** The client's randomness (the connection nonce): the platform's cryptographic source (browsers, Node ≥ 20). */
function webCryptoRandom(): RandomSource {
  const pool = new Uint32Array(16);
  let next = pool.length;
  return {
    nextU32(): number {
      if (next >= pool.length) {
        globalThis.crypto.getRandomValues(pool);
        next = 0;
      }
      return pool[next++]!;
    },
  };
}
