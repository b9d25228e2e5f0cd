/**
 * What runs a room: its seats (reservations, joins, drops held for reconnection, leaves), its patch and
 * simulation timers, its message handlers, its listing, and its disposal. `Room` (room.ts) is the API a
 * game sees; every room has one runtime, made by the matchmaker, that calls the room's hooks.
 *
 * Guarantees kept here:
 * - a client gets JOINED, then the full state, then whatever the room sent it during onJoin;
 * - a patch a client's session cannot take (backpressure) is never skipped silently: the client is marked
 *   for a full state, which replaces every patch until one fits (a slow client catches up by snapshots);
 * - every client that joined gets exactly one onLeave, whatever ended its stay (left, kicked, dropped and
 *   not back in time, room disposed); a client whose join failed gets none;
 * - nothing of a room runs after its onDispose: timers, clock and simulation are cleared first.
 */

import type { Schema } from '@colyseus/schema';
import {
  channelIndex,
  decodeValue,
  encodeRoomFrame,
  LeaveCode,
  MessageRouter,
  SendError,
  type ChannelChoice,
  type ChannelOptions,
  type RoomFrame,
  type Unsubscribe,
} from '@volley/protocol';
import type { MatchmakerDriver } from './matchmaker-driver.js';
import type { BroadcastOptions, JoinContext, Room, RoomAnyMessageHandler, RoomMessageHandler } from './room.js';
import { messageFrame, RoomClient, type RoomClientHost } from './room-client.js';
import { RoomClock, type ClockTimer } from './room-clock.js';
import { RoomInputs, type InputHandler } from './room-input.js';
import { randomId, type RoomEnvironment } from './room-environment.js';
import { JoinError } from './join-error.js';
import type { RoomListing } from './room-listing.js';
import type { RoomPeer } from './room-peer.js';
import { SimulationLoop, type TickHealth } from './simulation-loop.js';
import { StateSync } from './state-sync.js';

/** What a room's runtime asks of the matchmaker that made it. */
export interface RoomRuntimeHost {
  readonly env: RoomEnvironment;
  readonly layout: readonly ChannelOptions[];
  readonly driver: MatchmakerDriver;
  readonly processId: string;
  readonly maxMessageDepth: number;
  /** A hook threw, or a send failed: reported to the server's onError. */
  report(error: unknown, client: RoomClient | undefined, what: string): void;
  /** The client is no longer in the room on `peer` (left, dropped, moved to another session). */
  forget(peer: RoomPeer, room: RoomRuntime): void;
  /** The room is disposed. */
  disposed(room: RoomRuntime): void;
}

const runtimes = new WeakMap<object, RoomRuntime>();

/** @internal The runtime of a room (the Room API's methods delegate to it). */
export function runtimeOf(room: object): RoomRuntime {
  const r = runtimes.get(room);
  if (!r)
    throw new Error(
      'this room is not running yet: rooms are made by the matchmaker (call room methods from onCreate on, not in the constructor)',
    );
  return r;
}

/** Messages a client is sent while its join is still running (onJoin), delivered once it has joined. */
const MAX_HELD_FRAMES = 256;

type Phase = 'creating' | 'open' | 'disposing' | 'disposed';

interface Hold {
  resolve: (c: RoomClient) => void;
  reject: (e: Error) => void;
  timer: ClockTimer;
}

export class RoomRuntime implements RoomClientHost {
  readonly clients: RoomClient[] = [];
  readonly clock: RoomClock;
  metadata: Record<string, unknown> | undefined;
  isPrivate = false;
  private manualLock = false;
  private phase: Phase = 'creating';
  private readonly reservations = new Map<string, { cancel: () => void }>();
  private readonly holds = new Map<RoomClient, Hold>();
  private readonly held = new Map<RoomClient, { channel: number; frame: Uint8Array }[]>();
  private readonly router = new MessageRouter<RoomMessageHandler, RoomAnyMessageHandler>();
  private sync: StateSync | undefined;
  private patchRate = 50;
  private digestInterval = 2000;
  private nextDigest = 0;
  /** Something was sent since the last digest: the next one is worth sending. */
  private digestDue = false;
  private unreliableRate: number | undefined;
  private patchTimer: ClockTimer | undefined;
  private resyncTimer: ClockTimer | undefined;
  private unreliableTimer: ClockTimer | undefined;
  private simulation: SimulationLoop | undefined;
  private readonly reliableOrdered: number;
  private readonly unreliableSequenced: number;
  private readonly createdAt = Date.now();
  private readonly warnedTypes = new Set<string>();
  private inputs: RoomInputs<Schema> | undefined;

  constructor(
    private readonly host: RoomRuntimeHost,
    readonly room: Room<Schema | undefined>,
    /** The room's number on the wire (unique in this process). */
    readonly roomNumber: number,
    readonly roomId: string,
    readonly name: string,
    /** The values of the definition's filterBy options. */
    private readonly filters: Record<string, unknown>,
  ) {
    runtimes.set(room, this);
    this.clock = new RoomClock(host.env, (e) => host.report(e, undefined, `room '${name}' ${roomId}: a clock timer`));
    this.reliableOrdered = channelIndex(host.layout, 'reliable-ordered');
    this.unreliableSequenced = channelIndex(host.layout, 'unreliable-sequenced');
  }

  // ---- seats ----------------------------------------------------------------------------------

  /** Seats taken: clients in the room (joining, joined, held) and reservations not used yet. */
  get seats(): number {
    return this.clients.length + this.reservations.size;
  }

  get locked(): boolean {
    return this.manualLock || this.seats >= this.room.maxClients;
  }

  get open(): boolean {
    return this.phase === 'open';
  }

  get listings(): Pick<MatchmakerDriver, 'query' | 'watch'> {
    const driver = this.host.driver;
    return { query: (q) => driver.query(q), watch: (l) => driver.watch(l) };
  }

  get tickHealth(): Readonly<TickHealth> | undefined {
    return this.simulation?.health;
  }

  /** The durations (ms) of the simulation's last steps (up to 256), oldest first. */
  recentSteps(): number[] {
    return this.simulation?.recentSteps() ?? [];
  }

  listing(): RoomListing {
    return {
      roomId: this.roomId,
      name: this.name,
      processId: this.host.processId,
      clients: this.seats,
      maxClients: this.room.maxClients,
      locked: this.locked,
      private: this.isPrivate,
      metadata: this.metadata,
      filters: this.filters,
      createdAt: this.createdAt,
    };
  }

  /**
   * Runs onCreate and lists the room; with `withSeat`, reserves its creator's seat first (even if onCreate
   * locked the room: the listing counts it from the start) and returns it. Throws JoinError('Failed') when
   * onCreate throws.
   */
  async create(options: unknown, withSeat = false): Promise<string | undefined> {
    try {
      await this.room.onCreate?.(options);
    } catch (e) {
      this.phase = 'disposed';
      this.clock.clear();
      this.simulation?.stop();
      throw new JoinError('Failed', `room '${this.name}' onCreate failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    this.phase = 'open';
    const seat = withSeat ? this.hold(true) : undefined;
    await this.host.driver.add(this.listing());
    return seat;
  }

  /** Reserves a seat for `seatReservationTime`; returns the seat id, or undefined when the room is locked or closing. */
  reserveSeat(force = false): string | undefined {
    const sessionId = this.hold(force);
    if (sessionId) this.seatsChanged();
    return sessionId;
  }

  /** A seat reserved, the listing not told (the caller does). */
  private hold(force: boolean): string | undefined {
    if (this.phase !== 'open' || (!force && this.locked)) return undefined;
    const sessionId = randomId(this.host.env, 9);
    const timer = this.clock.setTimeout(() => {
      if (this.reservations.delete(sessionId)) this.seatsChanged();
    }, this.room.seatReservationTime);
    this.reservations.set(sessionId, { cancel: () => timer.clear() });
    return sessionId;
  }

  hasReservation(sessionId: string): boolean {
    return this.reservations.has(sessionId);
  }

  /**
   * Uses the reservation `sessionId` for `peer`: onAuth, then onJoin. Resolves with the client (not yet
   * admitted: the caller sends JOINED, then calls admit); throws JoinError.
   */
  async join(peer: RoomPeer, sessionId: string, options: unknown, context: JoinContext): Promise<RoomClient> {
    const reservation = this.reservations.get(sessionId);
    if (!reservation || this.phase !== 'open') throw new JoinError('Expired', 'the seat reservation expired or was already used');
    reservation.cancel();
    this.reservations.delete(sessionId);
    const client = new RoomClient(this, sessionId, `${this.roomId}:${randomId(this.host.env, 24)}`, peer);
    this.clients.push(client);
    this.held.set(client, []);
    try {
      if (this.room.onAuth) {
        let auth: unknown;
        try {
          auth = await this.room.onAuth(client, options, context);
        } catch (e) {
          throw new JoinError('Rejected', (e as Error)?.message || 'rejected by the room');
        }
        if (auth === false) throw new JoinError('Rejected', 'rejected by the room');
        client.auth = auth;
      }
      this.stillJoining(client);
      try {
        await this.room.onJoin?.(client, options, client.auth);
      } catch (e) {
        throw new JoinError('Failed', `room '${this.name}' onJoin failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      this.stillJoining(client);
    } catch (e) {
      this.removeSilently(client);
      throw e;
    }
    client.state = 'joined';
    client.needsState = this.sync !== undefined;
    return client;
  }

  private stillJoining(client: RoomClient): void {
    if (this.phase !== 'open') throw new JoinError('RoomUnavailable', 'the room is being disposed');
    if (client.state !== 'joining' || client.peer === undefined) throw new JoinError('Failed', 'the session ended during the join');
  }

  /** A join that failed: out of the room with no onLeave (it never joined). */
  private removeSilently(client: RoomClient): void {
    const i = this.clients.indexOf(client);
    if (i >= 0) this.clients.splice(i, 1);
    this.held.delete(client);
    client.state = 'left';
    this.seatsChanged();
    this.maybeDispose();
  }

  /**
   * A joined (or reconnected) client's JOINED frame goes out, then its full state (with a patch to everyone
   * else first, so all agree on where patches start), then the messages held for it.
   */
  admit(client: RoomClient, joined: Uint8Array): void {
    const held = this.held.get(client) ?? [];
    this.held.delete(client);
    this.deliver(client, this.reliableOrdered, joined);
    if (this.sync) this.patchNow();
    for (const h of held) this.deliver(client, h.channel, h.frame);
    this.seatsChanged();
  }

  /** The client with this reconnection token rejoins on `peer`; throws JoinError('Expired') when its seat is gone. */
  reconnect(peer: RoomPeer, token: string): RoomClient {
    const client = this.clients.find((c) => c.reconnectionToken === token);
    if (!client || this.phase !== 'open') throw new JoinError('Expired', 'no seat is held for this reconnection token');
    if (client.state === 'joined' && client.peer && client.peer !== peer) {
      // Its old session is still alive here (the server has not noticed it is gone): the token holder takes the seat.
      const old = client.peer;
      this.host.forget(old, this);
      this.sendTo(
        old,
        this.reliableOrdered,
        encodeRoomFrame({ op: 'left', room: this.roomNumber, code: LeaveCode.Replaced, text: 'rejoined on another session' }),
      );
    } else if (client.state !== 'dropped' || !this.holds.has(client)) {
      throw new JoinError(
        'Expired',
        client.state === 'joined' ? 'this seat is already in the room on this session' : 'no seat is held for this reconnection token',
      );
    }
    const hold = this.holds.get(client);
    this.holds.delete(client);
    hold?.timer.clear();
    client.peer = peer;
    client.state = 'joined';
    client.needsState = this.sync !== undefined;
    this.inputs?.restart(client);
    hold?.resolve(client);
    const onReconnect = this.room.onReconnect;
    if (onReconnect) void this.hook(() => onReconnect.call(this.room, client), client, 'onReconnect');
    return client;
  }

  /** The client's session ended (not a consented leave): onDrop, then onLeave unless its seat is held. */
  async peerEnded(client: RoomClient): Promise<void> {
    if (client.state === 'joining') {
      client.peer = undefined; // join() fails at its next step
      return;
    }
    if (client.state !== 'joined') return;
    client.state = 'dropped';
    client.peer = undefined;
    client.needsState = false;
    const onDrop = this.room.onDrop;
    if (onDrop) await this.hook(() => onDrop.call(this.room, client, LeaveCode.Dropped), client, 'onDrop');
    if (client.state === 'dropped' && !this.holds.has(client)) await this.remove(client, LeaveCode.Dropped, '', false);
  }

  allowReconnection(client: RoomClient, seconds: number): Promise<RoomClient> {
    if (client.state !== 'dropped' || !this.clients.includes(client)) {
      return Promise.reject(new Error(`allowReconnection: the client is ${client.state}, not dropped (call it in onDrop)`));
    }
    const existing = this.holds.get(client);
    if (existing) existing.timer.clear();
    let hold!: Hold;
    const promise = new Promise<RoomClient>((resolve, reject) => {
      const timer = this.clock.setTimeout(
        () => {
          if (this.holds.get(client) !== hold) return;
          this.holds.delete(client);
          reject(new Error(`client ${client.sessionId} did not reconnect within ${seconds} s`));
          void this.remove(client, LeaveCode.ReconnectionExpired, '', false);
        },
        Math.max(0, seconds) * 1000,
      );
      hold = { resolve, reject, timer };
    });
    promise.catch(() => undefined); // a room that does not await it is not an unhandled rejection
    this.holds.set(client, hold);
    return promise;
  }

  /** The client asked to leave (consented), or the server removes it: LEFT to it, onLeave, the seat freed. */
  async remove(client: RoomClient, code: number, text: string, notify: boolean): Promise<void> {
    if (client.state === 'left') return;
    const i = this.clients.indexOf(client);
    if (i < 0) return;
    this.clients.splice(i, 1);
    const hold = this.holds.get(client);
    if (hold) {
      this.holds.delete(client);
      hold.timer.clear();
      hold.reject(new Error('the client left'));
    }
    this.held.delete(client);
    const peer = client.peer;
    client.state = 'left';
    if (peer) {
      if (notify) this.sendTo(peer, this.reliableOrdered, encodeRoomFrame({ op: 'left', room: this.roomNumber, code, text }));
      this.host.forget(peer, this);
    }
    const onLeave = this.room.onLeave;
    if (onLeave) await this.hook(() => onLeave.call(this.room, client, code), client, 'onLeave');
    this.seatsChanged();
    this.maybeDispose();
  }

  // ---- RoomClientHost -------------------------------------------------------------------------

  channel(choice: ChannelChoice | undefined): number {
    return choice === undefined ? this.reliableOrdered : channelIndex(this.host.layout, choice);
  }

  /** Queues a frame for a client; held while it is joining; dropped while it is away. Throws SendError. */
  deliver(client: RoomClient, channel: number, frame: Uint8Array): void {
    const held = this.held.get(client);
    if (held) {
      if (held.length >= MAX_HELD_FRAMES)
        throw new SendError('backpressure', `over ${MAX_HELD_FRAMES} messages sent to a client before its join completed`);
      held.push({ channel, frame });
      return;
    }
    if (!client.peer || (client.state !== 'joined' && client.state !== 'joining') || client.peer.send(channel, frame) !== false) return;
    // Not taken: on a reliable channel that is back-pressure, for the caller to hear of; an unreliable message
    // the session cannot hold is simply dropped, as send() on a session does.
    if (this.host.layout[channel]?.kind.startsWith('reliable')) {
      throw new SendError('backpressure', `the session of client ${client.sessionId} holds all it can; wait for its acknowledgements`);
    }
  }

  kick(client: RoomClient, code: number, text: string): void {
    void this.remove(client, code, text, true);
  }

  // ---- state and patches ----------------------------------------------------------------------

  /** The state's types (Reflection), for a client that has not got its classes; undefined without a state. */
  reflection(): Uint8Array | undefined {
    return this.sync?.reflection();
  }

  setState(state: Schema | undefined): void {
    this.room.state = state;
    this.sync = state ? new StateSync(state, this.roomNumber) : undefined;
    for (const c of this.clients) if (c.state === 'joined') c.needsState = this.sync !== undefined;
    this.armPatches();
  }

  setPatchRate(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`patch rate must be ≥ 0 ms, got ${ms}`);
    this.patchRate = ms;
    this.armPatches();
  }

  setUnreliablePatchRate(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`unreliable patch rate must be ≥ 0 ms, got ${ms}`);
    this.unreliableRate = ms;
    this.armPatches();
  }

  private armPatches(): void {
    this.patchTimer?.clear();
    this.unreliableTimer?.clear();
    this.patchTimer = this.unreliableTimer = undefined;
    if (!this.sync || this.phase === 'disposing' || this.phase === 'disposed') return;
    if (this.patchRate > 0) this.patchTimer = this.clock.setInterval(() => this.patchNow(), this.patchRate);
    if (this.unreliableRate !== undefined && this.unreliableRate > 0) {
      this.unreliableTimer = this.clock.setInterval(() => this.unreliablePatchNow(), this.unreliableRate);
    }
  }

  /** Encodes and sends a patch to every joined client; full states to those that need one. */
  patchNow(): void {
    const sync = this.sync;
    if (!sync) return;
    const onBeforePatch = this.room.onBeforePatch;
    if (onBeforePatch) {
      try {
        onBeforePatch.call(this.room);
      } catch (e) {
        this.host.report(e, undefined, `room '${this.name}' ${this.roomId}: onBeforePatch`);
      }
    }
    const current: RoomClient[] = [];
    const behind: RoomClient[] = [];
    for (const c of this.clients) {
      if (c.state !== 'joined' || this.held.has(c)) continue;
      (c.needsState ? behind : current).push(c);
    }
    if (sync.encodePatch(current, (c, frame) => this.sendState(c as RoomClient, frame))) this.digestDue = true;
    for (const c of behind) {
      const frame = sync.fullState(c);
      if (this.sendState(c, frame)) {
        this.digestDue = true;
        c.needsState = false;
        // Its full state holds everything its view shows now; what the view queued would arrive twice.
        if (c.view && !current.some((o) => o.view === c.view && !o.needsState)) c.view.changes.clear();
      }
    }
    const now = this.host.env.now();
    if (this.digestDue && this.digestInterval > 0 && now >= this.nextDigest) {
      this.nextDigest = now + this.digestInterval;
      this.digestDue = false;
      const checked = current.filter((c) => c.digests && !c.needsState);
      try {
        sync.encodeDigests(checked, (c, frame) => this.sendState(c as RoomClient, frame));
      } catch (e) {
        this.host.report(e, undefined, `room '${this.name}' ${this.roomId}: a state digest`);
      }
    }
    if (this.unreliableRate === undefined) this.unreliablePatchNow();
  }

  /**
   * How often clients are sent a digest of their state to check their copy against, ms (0: never): at the
   * first patch tick past the interval after anything was sent (an idle room sends none).
   */
  setDigestInterval(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`digest interval must be ≥ 0 ms, got ${ms}`);
    this.digestInterval = ms;
    this.nextDigest = 0;
  }

  /** Whether a client that builds its classes from Reflection can check digests (Reflection has no @unreliable). */
  digestsFor(wantsReflection: boolean): boolean {
    return !wantsReflection || !this.sync?.hasUnreliableFields;
  }

  unreliablePatchNow(): void {
    const sync = this.sync;
    if (!sync) return;
    const current = this.clients.filter((c) => c.state === 'joined' && !c.needsState && !this.held.has(c));
    sync.encodeUnreliable(current, (c, frame) => {
      const client = c as RoomClient;
      try {
        client.peer?.send(this.unreliableSequenced, frame);
      } catch {
        // An unreliable patch a session cannot take is one lost datagram: the next one carries newer values.
      }
    });
  }

  /** Sends a state frame; a client whose session cannot take it gets a full state later instead. */
  private sendState(client: RoomClient, frame: Uint8Array): boolean {
    try {
      if (!client.peer || client.peer.send(this.reliableOrdered, frame) !== false) return true;
    } catch (e) {
      if (!(e instanceof SendError)) throw e; // closing: same as full, it will be gone or resynced
    }
    client.needsState = true;
    return false;
  }

  // ---- messages -------------------------------------------------------------------------------

  onMessage(type: string, handler: RoomAnyMessageHandler): Unsubscribe {
    return type === '*' ? this.router.onAny(handler) : this.router.on(type, handler as unknown as RoomMessageHandler);
  }

  /** A frame from a client in this room. */
  receive(client: RoomClient, frame: RoomFrame): void {
    if (client.state !== 'joined') return;
    switch (frame.op) {
      case 'send': {
        if (frame.seq > 0) {
          if (frame.seq <= client.lastSeq) return; // resent after a reconnection, and already here
          client.lastSeq = frame.seq;
        }
        let message: unknown;
        try {
          message = frame.raw ? frame.body.slice() : decodeValue(frame.body, this.host.maxMessageDepth);
        } catch (e) {
          this.host.report(e, client, `room '${this.name}': malformed message '${frame.type}'`);
          return;
        }
        const routed = this.router.route(
          frame.type,
          (h) => this.safely(() => h(client, message), client, frame.type),
          (h) => this.safely(() => h(client, frame.type, message), client, frame.type),
        );
        if (routed === 'first-unhandled' && !this.warnedTypes.has(frame.type)) {
          this.warnedTypes.add(frame.type);
          console.warn(`volley room '${this.name}': no handler for message type '${frame.type}' (warned once per room)`);
        }
        return;
      }
      case 'resync':
        // Answered at the next patch tick: however often a client asks, it costs one full state per tick.
        if (this.sync) {
          client.needsState = true;
          // A room without a patch rate patches only when told: answer within 50 ms anyway, at most once per 50 ms.
          if (this.patchRate === 0 && !this.resyncTimer) {
            this.resyncTimer = this.clock.setTimeout(() => {
              this.resyncTimer = undefined;
              this.patchNow();
            }, 50);
          }
        }
        return;
      case 'leave':
        void this.remove(client, LeaveCode.Consented, '', true);
        return;
      case 'input':
        if (!this.inputs) return;
        try {
          this.inputs.receive(client, frame.body, (e) => this.host.report(e, client, `room '${this.name}': the input handler`));
        } catch (e) {
          this.host.report(e, client, `room '${this.name}': unusable inputs`);
        }
        return;
      default:
        return;
    }
  }

  onInput<I extends Schema>(Input: new () => I, handler: InputHandler<ReturnType<I['toJSON']>>): void {
    this.inputs = new RoomInputs(Input, handler);
  }

  broadcast(type: string, message: unknown, options: BroadcastOptions): void {
    const frame = messageFrame(this.roomNumber, type, message);
    const channel = this.channel(options.channel);
    const except = options.except;
    for (const c of this.clients) {
      if (c.state !== 'joined' || c === except || (Array.isArray(except) && except.includes(c))) continue;
      try {
        this.deliver(c, channel, frame);
      } catch (e) {
        this.host.report(e, c, `room '${this.name}': broadcast '${type}'`);
      }
    }
  }

  // ---- configuration --------------------------------------------------------------------------

  setSimulationInterval(step: ((dt: number) => void) | undefined, interval: number): void {
    this.simulation?.stop();
    this.simulation = undefined;
    if (!step || this.phase === 'disposing' || this.phase === 'disposed') return;
    this.simulation = new SimulationLoop(this.host.env, step.bind(this.room), interval, (e) =>
      this.host.report(e, undefined, `room '${this.name}' ${this.roomId}: the simulation step`),
    );
  }

  async setMetadata(metadata: Record<string, unknown>): Promise<void> {
    this.metadata = { ...this.metadata, ...metadata };
    await this.updateListing();
  }

  async setPrivate(isPrivate: boolean): Promise<void> {
    this.isPrivate = isPrivate;
    await this.updateListing();
  }

  async setLocked(locked: boolean): Promise<void> {
    this.manualLock = locked;
    await this.updateListing();
  }

  // ---- the end --------------------------------------------------------------------------------

  async disconnect(code: number = LeaveCode.Disposed, text = ''): Promise<void> {
    await this.dispose(code, text);
  }

  private maybeDispose(): void {
    if (this.room.autoDispose && this.phase === 'open' && this.clients.length === 0 && this.reservations.size === 0) {
      void this.dispose(LeaveCode.Disposed, '');
    }
  }

  async dispose(code: number, text: string): Promise<void> {
    if (this.phase === 'disposing' || this.phase === 'disposed') return;
    const wasOpen = this.phase === 'open';
    this.phase = 'disposing';
    for (const r of this.reservations.values()) r.cancel();
    this.reservations.clear();
    for (const c of [...this.clients]) await this.remove(c, code, text, true);
    this.patchTimer = this.unreliableTimer = undefined;
    this.simulation?.stop();
    this.clock.clear();
    const onDispose = this.room.onDispose;
    if (onDispose) await this.hook(() => onDispose.call(this.room), undefined, 'onDispose');
    this.phase = 'disposed';
    if (wasOpen) {
      try {
        await this.host.driver.remove(this.roomId);
      } catch (e) {
        this.host.report(e, undefined, `room '${this.name}' ${this.roomId}: removing its listing`);
      }
    }
    this.host.disposed(this);
  }

  // ---- helpers --------------------------------------------------------------------------------

  private seatsChanged(): void {
    if (this.phase === 'open') void this.updateListing();
  }

  private async updateListing(): Promise<void> {
    if (this.phase !== 'open') return;
    const l = this.listing();
    try {
      await this.host.driver.update(this.roomId, {
        clients: l.clients,
        maxClients: l.maxClients,
        locked: l.locked,
        private: l.private,
        metadata: l.metadata,
      });
    } catch (e) {
      this.host.report(e, undefined, `room '${this.name}' ${this.roomId}: updating its listing`);
    }
  }

  private sendTo(peer: RoomPeer, channel: number, frame: Uint8Array): void {
    try {
      peer.send(channel, frame);
    } catch {
      // The session is closing or full: it learns the rest from its own end.
    }
  }

  private safely(run: () => void, client: RoomClient, type: string): void {
    try {
      run();
    } catch (e) {
      this.host.report(e, client, `room '${this.name}': the handler of '${type}'`);
    }
  }

  private async hook(run: () => void | Promise<void>, client: RoomClient | undefined, what: string): Promise<void> {
    try {
      await run();
    } catch (e) {
      this.host.report(e, client, `room '${this.name}' ${this.roomId}: ${what}`);
    }
  }
}
