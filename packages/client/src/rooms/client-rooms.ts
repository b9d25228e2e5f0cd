/**
 * The client end of room frames (docs/protocol.md §9): sends joins and listings, matches the server's answers
 * to them, routes every other frame to its room, and ends every room and pending join when the session ends.
 * A join resolves once the room's full state is applied (at once for a room without state), so `room.state`
 * is complete when `await client.joinOrCreate(…)` returns.
 */

import type { Schema } from '@colyseus/schema';
import { decode, encode } from '@msgpack/msgpack';
import { checkMessagePack, decodeRoomFrame, encodeRoomFrame, LeaveCode, type JoinMethod, type RoomFrame } from '@volley/protocol';
import { RoomError } from './room-error.js';
import type { RoomLink } from './room-link.js';
import { Room } from './room.js';
import { StateDecoder } from './state-decoder.js';

/** A room as a listing shows it (`client.getAvailableRooms`). */
export interface RoomAvailable {
  roomId: string;
  name: string;
  clients: number;
  maxClients: number;
  metadata: unknown;
}

/** A schema class whose instances a room's state decodes into (`new State()`), or none: built from the server's Reflection. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a Schema subclass's constructor, whatever it takes
export type StateClass<S extends Schema> = new (...args: any[]) => S;

interface PendingJoin {
  resolve: (room: Room<Schema>) => void;
  reject: (e: Error) => void;
  stateClass: StateClass<Schema> | undefined;
  /** What the join was asked with (sent again if it is redirected). */
  options: unknown;
  room?: Room<Schema>;
  /** A room of an ended session to bring back (reconnect). */
  revive?: Room<Schema>;
}

export class ClientRooms {
  private readonly rooms = new Map<number, Room<Schema>>();
  private readonly joins = new Map<number, PendingJoin>();
  private readonly lists = new Map<number, { resolve: (r: RoomAvailable[]) => void; reject: (e: Error) => void }>();
  private nextRequest = 1;
  private over: { reason: string } | undefined;

  constructor(private readonly link: RoomLink) {}

  /** Rooms the client is in. */
  get all(): readonly Room<Schema>[] {
    return [...this.rooms.values()];
  }

  join<S extends Schema>(
    method: JoinMethod,
    target: string,
    options: unknown,
    stateClass: StateClass<S> | undefined,
    revive?: Room<S>,
  ): Promise<Room<S>> {
    if (this.over) return Promise.reject(new RoomError('session-ended', `the session is over (${this.over.reason})`));
    if (revive && revive.joined) return Promise.reject(new RoomError('bad-request', `room '${revive.name}' is still joined`));
    const request = this.request();
    return new Promise<Room<S>>((resolve, reject) => {
      this.joins.set(request, {
        resolve: resolve as (r: Room<Schema>) => void,
        reject,
        stateClass,
        options,
        revive: revive as Room<Schema> | undefined,
      });
      try {
        const body = options === undefined ? new Uint8Array(0) : encode(options);
        this.link.send(
          this.link.channel('reliable-ordered'),
          encodeRoomFrame({ op: 'join', request, method, target, reflection: !stateClass, options: body }),
        );
      } catch (e) {
        this.joins.delete(request);
        reject(e);
      }
    });
  }

  list(name: string | undefined): Promise<RoomAvailable[]> {
    if (this.over) return Promise.reject(new RoomError('session-ended', `the session is over (${this.over.reason})`));
    const request = this.request();
    return new Promise<RoomAvailable[]>((resolve, reject) => {
      this.lists.set(request, { resolve, reject });
      try {
        this.link.send(
          this.link.channel('reliable-ordered'),
          encodeRoomFrame({ op: 'list', request, name: name ?? '', criteria: new Uint8Array(0) }),
        );
      } catch (e) {
        this.lists.delete(request);
        reject(e);
      }
    });
  }

  /** A room frame from the server. */
  receive(bytes: Uint8Array): void {
    let frame: RoomFrame;
    try {
      frame = decodeRoomFrame(bytes, 'server');
    } catch (e) {
      this.link.report(new RoomError('malformed', `unusable room frame from the server: ${(e as Error).message}`));
      return;
    }
    switch (frame.op) {
      case 'joined':
        this.joined(frame);
        return;
      case 'join-error': {
        const p = this.joins.get(frame.request);
        if (!p) return;
        this.joins.delete(frame.request);
        p.reject(RoomError.fromWire(frame.code, frame.message));
        return;
      }
      case 'redirect': {
        const p = this.joins.get(frame.request);
        if (!p) return;
        this.joins.delete(frame.request);
        if (!this.link.redirect) {
          p.reject(new RoomError('failed', `the join was redirected a second time (to ${frame.url}): refused`));
          return;
        }
        this.link.redirect(frame, p.options, p.stateClass, p.revive).then(p.resolve, p.reject);
        return;
      }
      case 'rooms': {
        const p = this.lists.get(frame.request);
        if (!p) return;
        this.lists.delete(frame.request);
        try {
          checkMessagePack(frame.body, this.link.maxMessageDepth);
          const listed = decode(frame.body);
          p.resolve(Array.isArray(listed) ? (listed as RoomAvailable[]) : []);
        } catch (e) {
          p.reject(new RoomError('malformed', `unusable room listing: ${(e as Error).message}`));
        }
        return;
      }
      case 'state':
      case 'patch':
      case 'digest':
      case 'unreliable-patch':
      case 'message':
      case 'left': {
        const room = this.rooms.get(frame.room);
        if (!room) return;
        room.handle(frame);
        if (frame.op === 'left') this.rooms.delete(frame.room);
        this.settle(room);
        return;
      }
      default:
        this.link.report(new RoomError('malformed', `room op '${frame.op}' is not sent by servers`));
    }
  }

  /** The session ended: every pending join fails, every room ends (LeaveCode.SessionLost). */
  sessionEnded(reason: string): void {
    this.over = { reason };
    const error = new RoomError('session-ended', `the session ended (${reason})`);
    for (const p of this.joins.values()) p.reject(error);
    for (const p of this.lists.values()) p.reject(error);
    this.joins.clear();
    this.lists.clear();
    const rooms = [...this.rooms.values()];
    this.rooms.clear();
    for (const r of rooms) r.ended(LeaveCode.SessionLost, reason);
  }

  private joined(f: Extract<RoomFrame, { op: 'joined' }>): void {
    const p = this.joins.get(f.request);
    if (!p) {
      // A join we no longer wait for (it cannot happen unless the server misbehaves): leave the room again.
      this.link.send(this.link.channel('reliable-ordered'), encodeRoomFrame({ op: 'leave', room: f.room }));
      return;
    }
    if (p.revive) {
      const room = p.revive;
      p.room = room;
      this.rooms.set(f.room, room);
      room.rebind(this.link, f.lastSeq);
      this.settle(room);
      return;
    }
    let decoder: StateDecoder<Schema> | undefined;
    if (f.hasState) {
      try {
        decoder = StateDecoder.create(p.stateClass ? new p.stateClass() : undefined, f.reflection);
      } catch (e) {
        this.joins.delete(f.request);
        p.reject(new RoomError('malformed', `room '${f.roomName}': its state types are unusable: ${(e as Error).message}`));
        this.link.send(this.link.channel('reliable-ordered'), encodeRoomFrame({ op: 'leave', room: f.room }));
        return;
      }
    }
    const room = new Room<Schema>(this.link, f.room, f.roomId, f.roomName, f.sessionId, f.reconnectionToken, decoder);
    room.continueAfter(f.lastSeq); // a seat taken back by token: the server has its numbers up to there
    p.room = room;
    this.rooms.set(f.room, room);
    this.settle(room);
  }

  /** A join resolves when its room has its state (or has none), and fails if it is left before. */
  private settle(room: Room<Schema>): void {
    for (const [request, p] of this.joins) {
      if (p.room !== room) continue;
      if (!room.joined) {
        this.joins.delete(request);
        p.reject(new RoomError('failed', `room '${room.name}' was left before its state arrived`));
      } else if (!room.awaitingState) {
        this.joins.delete(request);
        p.resolve(room);
        room.release();
      }
      return;
    }
  }

  private request(): number {
    const r = this.nextRequest;
    this.nextRequest = this.nextRequest >= 0xffffffff ? 1 : this.nextRequest + 1;
    return r;
  }
}
