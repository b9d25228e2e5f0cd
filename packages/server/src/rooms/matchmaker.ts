/**
 * Matchmaking: finds or creates the room a join asks for and reserves a seat in it. Room types are defined
 * here (`define`); listings live in the driver (in memory by default, shared through Redis by several
 * processes), locks in the presence, rooms in the process that created them.
 *
 * - `joinOrCreate(name, options)`: the first available room of that type whose filterBy options match (in
 *   the definition's sortBy order), else a new one. Two racing calls create one room: when the search finds
 *   no seat, it runs again and the creation after it under one lock per type and filter values (a seat is
 *   reserved atomically by its room's process, so a search that finds one needs no lock).
 * - `create`: always a new room. `join`: an existing one or NoRoomFound. `joinById`: that room, private or
 *   not, unless it is locked or full.
 * - A seat reservation holds a seat for `seatReservationTime` (15 s): a join over the same session uses it at
 *   once; `reserveSeat` makes one to hand to a client out of band (`client.consumeSeatReservation`).
 */

import type { ChannelOptions, RedirectMethod } from '@volley/protocol';
import type { Cluster, ProcessInfo, RemoteCall, RemoteReply } from '../cluster/cluster.js';
import { placeRoom } from '../cluster/placement.js';
import type { MatchmakerDriver, Presence } from './matchmaker-driver.js';
import { MemoryDriver, MemoryPresence } from './memory-driver.js';
import { JoinError } from './join-error.js';
import type { RoomClient } from './room-client.js';
import { RoomDefinition, type RoomClass } from './room-definition.js';
import { randomId, type RoomEnvironment } from './room-environment.js';
import type { ListingQuery, RoomListing } from './room-listing.js';
import type { RoomPeer } from './room-peer.js';
import { RoomRuntime, type RoomRuntimeHost } from './room-runtime.js';

export interface MatchmakerOptions {
  /** Where listings live. Default: in this process (MemoryDriver). */
  driver?: MatchmakerDriver;
  /** Locks shared by the processes. Default: in this process (MemoryPresence). */
  presence?: Presence;
  /** This process's id in listings. Default: random. */
  processId?: string;
  /** Rooms this process may run at once; past it a join that would create one fails (RoomUnavailable). Default 10 000. */
  maxRooms?: number;
  /** Sessions past which other processes of the cluster get the new rooms (placement). Default: the server's maxSessions. */
  maxClients?: number;
}

/** How long a process waits for another to reserve a seat or create a room for it, ms. */
export const REMOTE_CALL_TIMEOUT_MS = 3000;

/** A seat found in this process: the hub joins the client to it. */
export interface LocalSeat {
  runtime: RoomRuntime;
  sessionId: string;
  options: unknown;
}

/** The room is in another process: the client is sent there (a REDIRECT frame). */
export interface Redirect {
  redirect: { method: RedirectMethod; target: string; url: string };
}

export type Placement = LocalSeat | Redirect;

/** A seat held in a room: what a client needs to take it (`client.consumeSeatReservation`). */
export interface SeatReservation {
  roomId: string;
  name: string;
  sessionId: string;
  processId: string;
}

export type JoinMethodName = 'joinOrCreate' | 'create' | 'join' | 'joinById' | 'seat';

const NAME = /^[\w.:-]{1,64}$/;

/** What the matchmaker needs of the server it runs in. */
export interface MatchmakerHost {
  readonly env: RoomEnvironment;
  readonly layout: readonly ChannelOptions[];
  readonly maxMessageDepth: number;
  report(error: unknown, client: RoomClient | undefined, what: string): void;
  forget(peer: RoomPeer, room: RoomRuntime): void;
  /** Sessions connected to this process now (its load). */
  clients(): number;
}

export class Matchmaker implements RoomRuntimeHost {
  driver: MatchmakerDriver;
  presence: Presence;
  /** The processes sharing matchmaking; undefined: this process is alone. */
  cluster: Cluster | undefined;
  readonly processId: string;
  /** Where clients reach this process (what a REDIRECT to it says); set by the server when it listens. */
  url = '';
  maxClients: number;
  private draining = false;
  private readonly definitions = new Map<string, RoomDefinition>();
  private readonly rooms = new Map<string, RoomRuntime>();
  private readonly byNumber = new Map<number, RoomRuntime>();
  private nextNumber = 1;
  private closed = false;
  private readonly maxRooms: number;

  constructor(
    private readonly host: MatchmakerHost,
    options: MatchmakerOptions = {},
  ) {
    this.driver = options.driver ?? new MemoryDriver();
    this.presence = options.presence ?? new MemoryPresence();
    this.processId = options.processId ?? randomId(host.env, 12);
    this.maxRooms = options.maxRooms ?? 10_000;
    this.maxClients = options.maxClients ?? Infinity;
  }

  // ---- the cluster ----------------------------------------------------------------------------

  /** Shares matchmaking with other processes from now on (before any room exists). */
  attach(parts: { driver: MatchmakerDriver; presence: Presence; cluster: Cluster }): void {
    if (this.rooms.size > 0) throw new Error('attach() after rooms were created');
    this.driver = parts.driver;
    this.presence = parts.presence;
    this.cluster = parts.cluster;
  }

  /** Joins the cluster (if any) as reachable at `url`. */
  async start(url: string): Promise<void> {
    this.url = url;
    await this.cluster?.start(
      () => this.info(),
      (call) => this.answer(call),
    );
  }

  /** This process as the others see it. */
  info(): ProcessInfo {
    return {
      processId: this.processId,
      url: this.url,
      rooms: this.rooms.size,
      maxRooms: this.maxRooms,
      clients: this.host.clients(),
      maxClients: Number.isFinite(this.maxClients) ? this.maxClients : 2 ** 31,
      draining: this.draining,
    };
  }

  /** Whether drain() was called. */
  get isDraining(): boolean {
    return this.draining;
  }

  /**
   * Stops taking rooms: no room is created here and no new client joins one of its rooms by search (joinById,
   * seat reservations and reconnections still do); the rooms run to their end. Resolves when the last one is
   * disposed, or after `timeoutMs` with the number still running.
   */
  async drain(timeoutMs = Infinity): Promise<number> {
    this.draining = true;
    const until = Date.now() + timeoutMs;
    while (this.rooms.size > 0 && Date.now() < until)
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, until - Date.now()))));
    return this.rooms.size;
  }

  /** A call from another process of the cluster. */
  async answer(call: RemoteCall): Promise<RemoteReply> {
    const no = (code: JoinError['code'], message: string): RemoteReply => ({ ok: false, code, message });
    if (typeof call !== 'object' || call === null) return no('BadRequest', 'not a call');
    if (this.closed) return no('RoomUnavailable', 'the server is shutting down');
    if (call.op === 'seat' && typeof call.roomId === 'string') {
      const runtime = this.rooms.get(call.roomId);
      if (!runtime) return no('RoomNotFound', `no room ${call.roomId}`);
      if (this.draining && !call.exact) return no('RoomUnavailable', 'the process is draining');
      const sessionId = runtime.reserveSeat();
      return sessionId
        ? { ok: true, roomId: runtime.roomId, sessionId }
        : no('RoomUnavailable', `room ${call.roomId} is locked, full or closing`);
    }
    if (call.op === 'create' && typeof call.name === 'string') {
      if (this.draining) return no('RoomUnavailable', 'the process is draining');
      try {
        const seat = await this.createWithSeat(call.name, call.options);
        const max = seat.runtime.room.maxClients;
        return { ok: true, roomId: seat.runtime.roomId, sessionId: seat.sessionId, ...(Number.isFinite(max) ? { seats: max } : {}) };
      } catch (e) {
        if (e instanceof JoinError) return no(e.code, e.message);
        throw e;
      }
    }
    return no('BadRequest', 'unknown call');
  }

  /** Where a reconnection token for a room not in this process goes; undefined when the room is nowhere. */
  async locate(roomId: string): Promise<string | undefined> {
    if (!this.cluster) return undefined;
    const l = await this.driver.get(roomId);
    return l && l.processId !== this.processId ? this.cluster.process(l.processId)?.url : undefined;
  }

  /** Asks another process for a seat (or a new room); a Redirect to it, or its refusal as a JoinError. */
  private async remote(processId: string, call: RemoteCall): Promise<Redirect> {
    const p = this.cluster?.process(processId);
    if (!this.cluster || !p) throw new JoinError('RoomUnavailable', `process ${processId} is gone`);
    const reply = await this.cluster.call(processId, call, REMOTE_CALL_TIMEOUT_MS);
    if (!reply.ok) throw new JoinError(reply.code, reply.message);
    if (call.op === 'create') this.cluster.placed(processId, reply.seats ?? 1);
    return { redirect: { method: 'seat', target: `${reply.roomId}:${reply.sessionId}`, url: p.url } };
  }

  /**
   * A new room of `name`, where placement says: here, or in another process. A process that refuses as
   * unavailable (gone since its last heartbeat, draining, full, closing) is passed over for the next one.
   */
  private async createPlaced(name: string, options: unknown): Promise<Placement> {
    if (!this.cluster) return this.createWithSeat(name, options);
    const passed = new Set<string>();
    for (;;) {
      const target = placeRoom(
        this.cluster.processes().filter((p) => !passed.has(p.processId)),
        this.processId,
      );
      if (!target) throw new JoinError('RoomUnavailable', 'every server process is full or draining');
      if (target.processId === this.processId) return this.createWithSeat(name, options);
      try {
        return await this.remote(target.processId, { op: 'create', name, options });
      } catch (e) {
        if (!(e instanceof JoinError) || e.code !== 'RoomUnavailable') throw e;
        passed.add(target.processId);
      }
    }
  }

  // ---- RoomRuntimeHost ------------------------------------------------------------------------

  get env(): RoomEnvironment {
    return this.host.env;
  }

  get layout(): readonly ChannelOptions[] {
    return this.host.layout;
  }

  get maxMessageDepth(): number {
    return this.host.maxMessageDepth;
  }

  report(error: unknown, client: RoomClient | undefined, what: string): void {
    this.host.report(error, client, what);
  }

  forget(peer: RoomPeer, room: RoomRuntime): void {
    this.host.forget(peer, room);
  }

  disposed(room: RoomRuntime): void {
    this.rooms.delete(room.roomId);
    this.byNumber.delete(room.roomNumber);
  }

  // ---- definitions and rooms ------------------------------------------------------------------

  /** Registers a room type; returns its definition (for filterBy and sortBy). */
  define(name: string, roomClass: RoomClass, defaultOptions: Record<string, unknown> = {}): RoomDefinition {
    if (!NAME.test(name)) throw new RangeError(`room type name must be 1–64 of [A-Za-z0-9_.:-], got ${JSON.stringify(name)}`);
    if (this.definitions.has(name)) throw new Error(`room type '${name}' is defined already`);
    const def = new RoomDefinition(name, roomClass, defaultOptions);
    this.definitions.set(name, def);
    return def;
  }

  /** The room types defined here, by name. */
  get definedTypes(): string[] {
    return [...this.definitions.keys()];
  }

  /** The rooms of this process. */
  get localRooms(): readonly RoomRuntime[] {
    return [...this.rooms.values()];
  }

  /** A room of this process by id. */
  room(roomId: string): RoomRuntime | undefined {
    return this.rooms.get(roomId);
  }

  /** A room of this process by its number on the wire. */
  roomByNumber(n: number): RoomRuntime | undefined {
    return this.byNumber.get(n);
  }

  /** Listings of every process sharing the driver. */
  query(query: ListingQuery): Promise<RoomListing[]> {
    return this.driver.query(query);
  }

  /** Creates a room of type `name` in this process (onCreate with the definition's options under `options`). */
  async createRoom(name: string, options?: unknown): Promise<RoomRuntime> {
    return (await this.openRoom(name, options, false)).runtime;
  }

  /**
   * A new room, and with `withSeat` its creator's seat, reserved before the room is listed: a join that
   * finds the room in the listing can never take the seat its creator was promised.
   */
  private async openRoom(name: string, options: unknown, withSeat: boolean): Promise<{ runtime: RoomRuntime; sessionId?: string }> {
    const def = this.definitions.get(name);
    if (!def) throw new JoinError('UnknownRoomType', `no room type '${name}' is defined`);
    if (this.closed) throw new JoinError('RoomUnavailable', 'the server is shutting down');
    if (this.draining) throw new JoinError('RoomUnavailable', 'this server is draining');
    if (this.rooms.size >= this.maxRooms) throw new JoinError('RoomUnavailable', `this server runs its maximum of ${this.maxRooms} rooms`);
    const merged = def.optionsFor(options);
    const number = this.nextNumber;
    this.nextNumber = this.nextNumber >= 0xffffffff ? 1 : this.nextNumber + 1;
    let roomId = randomId(this.host.env, 9);
    while (this.rooms.has(roomId)) roomId = randomId(this.host.env, 9);
    let room;
    try {
      room = def.create();
    } catch (e) {
      throw new JoinError('Failed', `room '${name}' could not be constructed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
    }
    const runtime = new RoomRuntime(this, room, number, roomId, name, def.filtersOf(merged));
    this.rooms.set(roomId, runtime);
    this.byNumber.set(number, runtime);
    let sessionId: string | undefined;
    try {
      sessionId = await runtime.create(merged, withSeat);
    } catch (e) {
      this.disposed(runtime);
      throw e;
    }
    return { runtime, ...(sessionId === undefined ? {} : { sessionId }) };
  }

  /** Holds a seat in room `roomId` of this process for a client to take later (`consumeSeatReservation`). */
  reserveSeat(roomId: string): SeatReservation {
    const runtime = this.rooms.get(roomId);
    if (!runtime) throw new JoinError('RoomNotFound', `no room ${roomId}`);
    const sessionId = runtime.reserveSeat();
    if (!sessionId) throw new JoinError('RoomUnavailable', `room ${roomId} is locked, full or closing`);
    return { roomId, name: runtime.name, sessionId, processId: this.processId };
  }

  /**
   * Finds (or creates) the room a join asks for and reserves a seat there: in this process (LocalSeat) or in
   * another one of the cluster (Redirect). `target` is a type name, or a room id for joinById, or
   * `roomId:sessionId` for a seat reservation. Throws JoinError.
   */
  async reserve(method: JoinMethodName, target: string, options: unknown): Promise<Placement> {
    if (this.closed) throw new JoinError('RoomUnavailable', 'the server is shutting down');
    switch (method) {
      case 'joinById': {
        const runtime = this.rooms.get(target);
        if (!runtime) {
          const l = this.cluster && (await this.driver.get(target));
          if (l && l.processId !== this.processId) return this.remote(l.processId, { op: 'seat', roomId: target, exact: true });
          throw new JoinError('RoomNotFound', `no room ${target}`);
        }
        const sessionId = runtime.reserveSeat();
        if (!sessionId) throw new JoinError('RoomUnavailable', `room ${target} is locked, full or closing`);
        return { runtime, sessionId, options };
      }
      case 'seat': {
        const at = target.lastIndexOf(':');
        const roomId = target.slice(0, Math.max(0, at));
        const runtime = this.rooms.get(roomId);
        const sessionId = target.slice(at + 1);
        if (!runtime && at > 0) {
          // Reserved in another process (handed over by any means): the client goes there with it.
          const url = await this.locate(roomId);
          if (url) return { redirect: { method: 'seat', target, url } };
        }
        if (!runtime || at < 0 || !runtime.hasReservation(sessionId))
          throw new JoinError('Expired', 'the seat reservation expired or was never made');
        return { runtime, sessionId, options };
      }
      case 'create':
        return this.createPlaced(this.definition(target).name, options);
      case 'join': {
        const def = this.definition(target);
        const found = await this.findSeat(def, options);
        if (!found)
          throw new JoinError(
            'NoRoomFound',
            `no '${target}' room to join${Object.keys(def.filtersOf(def.optionsFor(options))).length ? ' with these options' : ''}`,
          );
        return found;
      }
      case 'joinOrCreate': {
        const def = this.definition(target);
        // A seat is reserved atomically by the room's own process, so looking for one needs no lock: only
        // creating does (two joins finding no seat at once must not open two rooms). Under the lock, look
        // again: the join that held it before may have opened the room this one can take.
        const free = await this.findSeat(def, options);
        if (free) return free;
        const key = `joinOrCreate:${def.name}:${JSON.stringify(def.filtersOf(def.optionsFor(options)))}`;
        let locked: Placement;
        try {
          locked = await this.presence.withLock(
            key,
            5000,
            async () => (await this.findSeat(def, options)) ?? this.createPlaced(def.name, options),
          );
        } catch (e) {
          if (e instanceof JoinError) throw e;
          throw new JoinError('RoomUnavailable', `matchmaking is unavailable: ${(e as Error)?.message ?? String(e)}`, { cause: e });
        }
        return locked;
      }
    }
  }

  /** A new room with its creator's seat. */
  private async createWithSeat(name: string, options: unknown): Promise<LocalSeat> {
    const { runtime, sessionId } = await this.openRoom(name, options, true);
    if (!sessionId) throw new JoinError('RoomUnavailable', `room ${runtime.roomId} closed before its first client joined`);
    return { runtime, sessionId, options };
  }

  private definition(name: string): RoomDefinition {
    const def = this.definitions.get(name);
    if (!def) throw new JoinError('UnknownRoomType', `no room type '${name}' is defined`);
    return def;
  }

  /** The first room of `def` a seat can be had in (here, or in another process), in the definition's order. */
  private async findSeat(def: RoomDefinition, options: unknown): Promise<Placement | undefined> {
    const listings = await this.driver.query({
      name: def.name,
      available: true,
      filters: def.filtersOf(def.optionsFor(options)),
      sort: def.sort,
    });
    for (const l of listings) {
      if (l.processId === this.processId) {
        const runtime = this.draining ? undefined : this.rooms.get(l.roomId);
        const sessionId = runtime?.reserveSeat();
        if (runtime && sessionId) return { runtime, sessionId, options };
        continue;
      }
      if (this.cluster?.process(l.processId)?.draining !== false) continue;
      try {
        return await this.remote(l.processId, { op: 'seat', roomId: l.roomId, exact: false });
      } catch (e) {
        if (!(e instanceof JoinError)) throw e; // full since it was listed, or its process went: the next one
      }
    }
    return undefined;
  }

  /** Disposes every room of this process (the server is shutting down); no room is created after. */
  async shutdown(code: number, text: string): Promise<void> {
    this.closed = true;
    await Promise.all([...this.rooms.values()].map((r) => r.dispose(code, text)));
  }
}
