/**
 * Matchmaking: finds or creates the room a join asks for and reserves a seat in it. Room types are defined
 * here (`define`); listings live in the driver (in memory by default, shared through Redis by several
 * processes), locks in the presence, rooms in the process that created them.
 *
 * - `joinOrCreate(name, options)`: the first available room of that type whose filterBy options match (in
 *   the definition's sortBy order), else a new one. Two racing calls create one room: the search and the
 *   creation run under one lock per type and filter values.
 * - `create`: always a new room. `join`: an existing one or NoRoomFound. `joinById`: that room, private or
 *   not, unless it is locked or full.
 * - A seat reservation holds a seat for `seatReservationTime` (15 s): a join over the same session uses it at
 *   once; `reserveSeat` makes one to hand to a client out of band (`client.consumeSeatReservation`).
 */

import type { ChannelOptions } from '@volley/protocol';
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
}

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
}

export class Matchmaker implements RoomRuntimeHost {
  readonly driver: MatchmakerDriver;
  readonly presence: Presence;
  readonly processId: string;
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
    const def = this.definitions.get(name);
    if (!def) throw new JoinError('UnknownRoomType', `no room type '${name}' is defined`);
    if (this.closed) throw new JoinError('RoomUnavailable', 'the server is shutting down');
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
    try {
      await runtime.create(merged);
    } catch (e) {
      this.disposed(runtime);
      throw e;
    }
    return runtime;
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
   * Finds (or creates) the room a join asks for and reserves a seat there. `target` is a type name, or a
   * room id for joinById, or `roomId:sessionId` for a seat reservation. Throws JoinError.
   */
  async reserve(
    method: JoinMethodName,
    target: string,
    options: unknown,
  ): Promise<{ runtime: RoomRuntime; sessionId: string; options: unknown }> {
    if (this.closed) throw new JoinError('RoomUnavailable', 'the server is shutting down');
    switch (method) {
      case 'joinById': {
        const runtime = this.rooms.get(target);
        if (!runtime) throw new JoinError('RoomNotFound', `no room ${target}`);
        const sessionId = runtime.reserveSeat();
        if (!sessionId) throw new JoinError('RoomUnavailable', `room ${target} is locked, full or closing`);
        return { runtime, sessionId, options };
      }
      case 'seat': {
        const at = target.lastIndexOf(':');
        const runtime = this.rooms.get(target.slice(0, at));
        const sessionId = target.slice(at + 1);
        if (!runtime || at < 0 || !runtime.hasReservation(sessionId))
          throw new JoinError('Expired', 'the seat reservation expired or was never made');
        return { runtime, sessionId, options };
      }
      case 'create': {
        const def = this.definition(target);
        const runtime = await this.createRoom(def.name, options);
        return this.seatIn(runtime, options);
      }
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
        const key = `joinOrCreate:${def.name}:${JSON.stringify(def.filtersOf(def.optionsFor(options)))}`;
        return this.presence.withLock(
          key,
          5000,
          async () => (await this.findSeat(def, options)) ?? this.seatIn(await this.createRoom(def.name, options), options),
        );
      }
    }
  }

  private seatIn(runtime: RoomRuntime, options: unknown): { runtime: RoomRuntime; sessionId: string; options: unknown } {
    const sessionId = runtime.reserveSeat(true);
    if (!sessionId) throw new JoinError('RoomUnavailable', `room ${runtime.roomId} closed before its first client joined`);
    return { runtime, sessionId, options };
  }

  private definition(name: string): RoomDefinition {
    const def = this.definitions.get(name);
    if (!def) throw new JoinError('UnknownRoomType', `no room type '${name}' is defined`);
    return def;
  }

  private async findSeat(
    def: RoomDefinition,
    options: unknown,
  ): Promise<{ runtime: RoomRuntime; sessionId: string; options: unknown } | undefined> {
    const listings = await this.driver.query({
      name: def.name,
      available: true,
      filters: def.filtersOf(def.optionsFor(options)),
      sort: def.sort,
    });
    for (const l of listings) {
      const runtime = l.processId === this.processId ? this.rooms.get(l.roomId) : undefined;
      const sessionId = runtime?.reserveSeat();
      if (runtime && sessionId) return { runtime, sessionId, options };
    }
    return undefined;
  }

  /** Disposes every room of this process (the server is shutting down); no room is created after. */
  async shutdown(code: number, text: string): Promise<void> {
    this.closed = true;
    await Promise.all([...this.rooms.values()].map((r) => r.dispose(code, text)));
  }
}
