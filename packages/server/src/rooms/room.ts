/**
 * A room: one match, lobby or chat channel that clients join (docs/rooms.md). Extend it, register it with
 * `server.define(name, MyRoom)`, and clients find it with `client.joinOrCreate(name, options)`:
 *
 *   class Battle extends Room<BattleState> {
 *     maxClients = 8;
 *     onCreate() {
 *       this.setState(new BattleState());
 *       this.onMessage('move', (client, to) => this.move(client.sessionId, to));
 *       this.setSimulationInterval((dt) => this.step(dt), 1000 / 60);
 *     }
 *     onJoin(client) { this.state.players.set(client.sessionId, new Player()); }
 *     onDrop(client) { this.allowReconnection(client, 20); }
 *     onLeave(client) { this.state.players.delete(client.sessionId); }
 *   }
 *
 * The hooks may be async. A hook that throws is reported to the server's onError (and fails the join, for
 * onCreate, onAuth and onJoin); it never takes the server or other rooms down.
 *
 * Every room runs inside one server process, on the sessions of the clients in it: a room's traffic is
 * multiplexed over each client's one session (docs/protocol.md §9), whatever transport it is on.
 */

import type { Schema } from '@colyseus/schema';
import type { Unsubscribe } from '@volley/protocol';
import type { MatchmakerDriver } from './matchmaker-driver.js';
import type { RoomClient, RoomSendOptions } from './room-client.js';
import type { RoomClock } from './room-clock.js';
import { runtimeOf } from './room-runtime.js';
import type { TickHealth } from './simulation-loop.js';

/** What a room's onAuth learns besides the options: the session that asks. */
export interface JoinContext {
  /** What the server's onAuth returned for the session. */
  user: unknown;
  /** The session's id. */
  session: number;
  transport: string | undefined;
  remote: string;
}

export type RoomMessageHandler<C = RoomClient> = (client: C, message: unknown) => void;
export type RoomAnyMessageHandler<C = RoomClient> = (client: C, type: string, message: unknown) => void;

export interface BroadcastOptions extends RoomSendOptions {
  /** A client (or clients) not to send to. */
  except?: RoomClient | readonly RoomClient[];
}

export type RoomMetadata = Record<string, unknown>;

export abstract class Room<
  State extends Schema | undefined = undefined,
  Metadata extends RoomMetadata = RoomMetadata,
  Client extends RoomClient = RoomClient,
> {
  /** Seats in the room (joined, held for reconnection, reserved). Past it the room is locked until one frees. */
  maxClients = Infinity;
  /** Disposed once the last client left (and no seat is reserved). */
  autoDispose = true;
  /** How long a seat reservation waits to be used, ms (a join over the same session uses it at once). */
  seatReservationTime = 15_000;
  /** The state clients see (`setState`). */
  state: State = undefined as State;

  // ---- lifecycle hooks ------------------------------------------------------------------------

  /** The room was created (by a `create` or a `joinOrCreate` that found none); `options` are the creator's. */
  onCreate?(options: unknown): void | Promise<void>;
  /**
   * Decides whether `client` may join: return what to keep as `client.auth` (anything but `false`), return
   * `false` or throw to refuse it (the client's join fails with the error's message).
   */
  onAuth?(client: Client, options: unknown, context: JoinContext): unknown;
  /** `client` joined: add it to the state, set `client.view`. It gets the full state right after. */
  onJoin?(client: Client, options: unknown, auth: unknown): void | Promise<void>;
  /** `client` lost its session without leaving (a crash, a network cut). Call `allowReconnection` to hold its seat. */
  onDrop?(client: Client, code: number): void | Promise<void>;
  /** A dropped client came back (with its reconnection token) and has the full state. */
  onReconnect?(client: Client): void | Promise<void>;
  /** `client` is gone for good: it left (code LeaveCode.Consented), was kicked, or was not back in time. */
  onLeave?(client: Client, code: number): void | Promise<void>;
  /** The room is being disposed: every client is gone; its timers are cleared. */
  onDispose?(): void | Promise<void>;
  /** Just before each patch is encoded. */
  onBeforePatch?(): void;

  // ---- identity -------------------------------------------------------------------------------

  get roomId(): string {
    return runtimeOf(this).roomId;
  }

  get roomName(): string {
    return runtimeOf(this).name;
  }

  /** The clients in the room: joined, and dropped ones whose seat is held (`client.state`). */
  get clients(): readonly Client[] {
    return runtimeOf(this).clients as Client[];
  }

  get metadata(): Metadata | undefined {
    return runtimeOf(this).metadata as Metadata | undefined;
  }

  get locked(): boolean {
    return runtimeOf(this).locked;
  }

  get private(): boolean {
    return runtimeOf(this).isPrivate;
  }

  /** The room's clock and timers (cleared when it is disposed). */
  get clock(): RoomClock {
    return runtimeOf(this).clock;
  }

  /** The matchmaker's listings (of every process sharing it): to query, and to watch for changes (a lobby does). */
  get listings(): Pick<MatchmakerDriver, 'query' | 'watch'> {
    return runtimeOf(this).listings;
  }

  /** The fixed-step simulation's health: steps run, run late, dropped; step durations. */
  get tickHealth(): Readonly<TickHealth> | undefined {
    return runtimeOf(this).tickHealth;
  }

  // ---- configuration --------------------------------------------------------------------------

  /** Sets the state (a @colyseus/schema 5 Schema); clients get it in full on join, then patches. */
  setState(state: State): void {
    runtimeOf(this).setState(state);
  }

  /** Patches go out every `ms` (default 50: 20 Hz); 0 stops them (call `broadcastPatch()` yourself). */
  setPatchRate(ms: number): void {
    runtimeOf(this).setPatchRate(ms);
  }

  /** Unreliable fields' patches go out every `ms` (default: with every patch). */
  setUnreliablePatchRate(ms: number): void {
    runtimeOf(this).setUnreliablePatchRate(ms);
  }

  /**
   * Every `ms` (default 2000), right after a patch, each client is sent a digest of the state it should
   * have; a client whose copy differs resyncs. 0 turns it off.
   */
  setDigestInterval(ms: number): void {
    runtimeOf(this).setDigestInterval(ms);
  }

  /** Runs `step(dt)` every `interval` ms with a fixed `dt` (default 1000/60), catching up on late timers. */
  setSimulationInterval(step: ((dt: number) => void) | undefined, interval = 1000 / 60): void {
    runtimeOf(this).setSimulationInterval(step, interval);
  }

  /** Merges into the room's metadata (listed, and used by filters and sorting). */
  setMetadata(metadata: Partial<Metadata>): Promise<void> {
    return runtimeOf(this).setMetadata(metadata);
  }

  /** A private room is never listed nor found by join/joinOrCreate; only by its id. */
  setPrivate(isPrivate = true): Promise<void> {
    return runtimeOf(this).setPrivate(isPrivate);
  }

  /** No new client may join until unlock(). */
  lock(): Promise<void> {
    return runtimeOf(this).setLocked(true);
  }

  unlock(): Promise<void> {
    return runtimeOf(this).setLocked(false);
  }

  // ---- messages -------------------------------------------------------------------------------

  /** Handles the room's messages of `type` ('*': every type without a handler of its own). */
  onMessage(type: string, handler: RoomMessageHandler<Client>): Unsubscribe;
  onMessage(type: '*', handler: RoomAnyMessageHandler<Client>): Unsubscribe;
  onMessage(type: string, handler: RoomMessageHandler<Client> | RoomAnyMessageHandler<Client>): Unsubscribe {
    return runtimeOf(this).onMessage(type, handler as RoomAnyMessageHandler);
  }

  /**
   * Takes the clients' inputs (`room.input(Input).send()` on the client: @colyseus/schema's InputEncoder,
   * the last few inputs in every unreliable packet): `handler` gets each input once, in order, as a plain
   * object with its sequence number (also `client.lastInputSeq`, to echo in the state for reconciliation).
   */
  onInput<I extends Schema>(Input: new () => I, handler: (client: Client, input: ReturnType<I['toJSON']>, seq: number) => void): void {
    runtimeOf(this).onInput(Input, handler as (client: RoomClient, input: ReturnType<I['toJSON']>, seq: number) => void);
  }

  /** Sends a message to every joined client (but `except`), encoded once. */
  broadcast(type: string, message?: unknown, options: BroadcastOptions = {}): void {
    runtimeOf(this).broadcast(type, message, options);
  }

  /** Encodes and sends a patch now (what the patch rate does on its own). */
  broadcastPatch(): void {
    runtimeOf(this).patchNow();
  }

  // ---- seats ----------------------------------------------------------------------------------

  /**
   * Holds a dropped client's seat for `seconds` (call it in onDrop): the client may rejoin with its
   * reconnection token and finds its seat and the full state. Resolves with the client when it is back;
   * rejects when the time is up (the client then leaves: onLeave).
   */
  allowReconnection(client: Client, seconds: number): Promise<Client> {
    return runtimeOf(this).allowReconnection(client, seconds) as Promise<Client>;
  }

  /** Removes every client (LeaveCode.Disposed, or `code`) and disposes the room. */
  disconnect(code?: number, text?: string): Promise<void> {
    return runtimeOf(this).disconnect(code, text);
  }
}
