/**
 * The server end of room frames (docs/protocol.md §9): reads every room frame a session sends, runs its
 * joins through the matchmaker, routes the rest to the rooms the session is in, and tells those rooms when
 * the session ends. It knows which session is in which room under which number, and bounds what one session
 * may ask for: rooms at once, joins pending, the size and depth of join options.
 */

import { encode } from '@msgpack/msgpack';
import {
  channelIndex,
  DecodeError,
  decodeRoomFrame,
  decodeValue,
  encodeRoomFrame,
  JoinErrorCode,
  TokenBucket,
  type RoomFrame,
} from '@volley/protocol';
import { JoinError } from './join-error.js';
import type { JoinMethodName, Matchmaker, Redirect } from './matchmaker.js';
import type { RoomClient } from './room-client.js';
import type { RoomPeer } from './room-peer.js';
import type { RoomRuntime } from './room-runtime.js';

export interface RoomHubLimits {
  /** Rooms one session may be in at once. Default 8. */
  maxRoomsPerSession: number;
  /** Joins one session may have pending at once. Default 4. */
  maxPendingJoins: number;
  /** Joins (and room listings) one session may ask for per second, bursts of twice that. Default 5. */
  joinsPerSecond: number;
}

export const ROOM_HUB_DEFAULTS: RoomHubLimits = { maxRoomsPerSession: 8, maxPendingJoins: 4, joinsPerSecond: 5 };

interface Membership {
  rooms: Map<number, RoomClient>;
  pending: number;
  ended: boolean;
  /** Joins and listings it may still ask for (a session that creates and leaves rooms in a loop is slowed, not served). */
  asks: TokenBucket;
}

export class RoomHub {
  private readonly members = new Map<RoomPeer, Membership>();

  constructor(
    readonly matchmaker: Matchmaker,
    private readonly limits: RoomHubLimits,
    private readonly maxMessageDepth: number,
    /** A frame that is no room frame (or not one a client sends): counted like a malformed message. */
    private readonly malformed: (peer: RoomPeer, why: string) => void,
    private readonly context: (peer: RoomPeer) => { user: unknown; session: number; transport: string | undefined; remote: string },
  ) {}

  /** Rooms `peer` is in, by number. */
  roomsOf(peer: RoomPeer): ReadonlyMap<number, RoomClient> {
    return this.members.get(peer)?.rooms ?? new Map();
  }

  /** A room frame from a session. */
  receive(peer: RoomPeer, bytes: Uint8Array): void {
    let frame: RoomFrame;
    try {
      frame = decodeRoomFrame(bytes, 'client');
    } catch (e) {
      this.malformed(peer, e instanceof DecodeError ? e.message : String(e));
      return;
    }
    switch (frame.op) {
      case 'join':
        void this.join(peer, frame);
        return;
      case 'list':
        void this.list(peer, frame);
        return;
      case 'send':
      case 'leave':
      case 'resync':
      case 'input': {
        const client = this.members.get(peer)?.rooms.get(frame.room);
        const runtime = client && this.matchmaker.roomByNumber(frame.room);
        if (client && runtime) runtime.receive(client, frame);
        return; // a frame for a room the session has left (or never joined): stale, dropped
      }
      default:
        this.malformed(peer, `room op '${frame.op}' is not sent by clients`);
    }
  }

  /** The session ended: each of its rooms drops its client (onDrop, then onLeave unless the seat is held). */
  peerEnded(peer: RoomPeer): void {
    const m = this.members.get(peer);
    if (!m) return;
    m.ended = true;
    this.members.delete(peer);
    for (const [n, client] of m.rooms) {
      const runtime = this.matchmaker.roomByNumber(n);
      if (runtime) void runtime.peerEnded(client);
    }
  }

  /** @internal The client left the room on `peer` (the runtime says so). */
  forget(peer: RoomPeer, room: RoomRuntime): void {
    this.members.get(peer)?.rooms.delete(room.roomNumber);
  }

  private membership(peer: RoomPeer): Membership {
    let m = this.members.get(peer);
    if (!m) {
      const rate = this.limits.joinsPerSecond;
      m = { rooms: new Map(), pending: 0, ended: false, asks: new TokenBucket(rate, rate * 2, this.matchmaker.env.now()) };
      this.members.set(peer, m);
    }
    return m;
  }

  private async join(peer: RoomPeer, frame: Extract<RoomFrame, { op: 'join' }>): Promise<void> {
    const m = this.membership(peer);
    if (!m.asks.take(1, this.matchmaker.env.now())) {
      this.joinError(peer, frame.request, new JoinError('Limit', `over ${this.limits.joinsPerSecond} joins per second`));
      return;
    }
    if (m.rooms.size + m.pending >= this.limits.maxRoomsPerSession || m.pending >= this.limits.maxPendingJoins) {
      this.joinError(
        peer,
        frame.request,
        new JoinError(
          'Limit',
          `a session may be in ${this.limits.maxRoomsPerSession} rooms and have ${this.limits.maxPendingJoins} joins pending`,
        ),
      );
      return;
    }
    m.pending++;
    let runtime: RoomRuntime | undefined;
    let client: RoomClient | undefined;
    try {
      let options: unknown;
      try {
        options = frame.options.length > 0 ? decodeValue(frame.options, this.maxMessageDepth) : undefined;
      } catch (e) {
        throw new JoinError('BadRequest', `join options: ${(e as Error).message}`);
      }
      if (frame.method === 'reconnect') {
        const roomId = frame.target.slice(0, Math.max(0, frame.target.indexOf(':')));
        runtime = this.matchmaker.room(roomId);
        if (!runtime) {
          const url = roomId ? await this.matchmaker.locate(roomId) : undefined;
          if (url) return this.redirect(peer, frame.request, { method: 'reconnect', target: frame.target, url }, m);
          throw new JoinError('Expired', 'no seat is held for this reconnection token (the room is gone)');
        }
        if (m.rooms.has(runtime.roomNumber)) throw new JoinError('BadRequest', 'this session is in that room already');
        client = runtime.reconnect(peer, frame.target);
      } else {
        const method: JoinMethodName = frame.method;
        const seat = await this.matchmaker.reserve(method, frame.target, options);
        if ('redirect' in seat) return this.redirect(peer, frame.request, seat.redirect, m);
        runtime = seat.runtime;
        if (m.rooms.has(runtime.roomNumber)) throw new JoinError('BadRequest', 'this session is in that room already');
        client = await runtime.join(peer, seat.sessionId, options, this.context(peer));
      }
      if (m.ended) {
        // The session ended while the room let it in: it joined, and is dropped at once.
        void runtime.peerEnded(client);
        return;
      }
      m.rooms.set(runtime.roomNumber, client);
      client.digests = runtime.digestsFor(frame.reflection);
      const joined = encodeRoomFrame({
        op: 'joined',
        request: frame.request,
        room: runtime.roomNumber,
        roomId: runtime.roomId,
        roomName: runtime.name,
        sessionId: client.sessionId,
        reconnectionToken: client.reconnectionToken,
        lastSeq: client.lastSeq,
        hasState: runtime.reflection() !== undefined,
        reflection: frame.reflection ? runtime.reflection() : undefined,
      });
      runtime.admit(client, joined);
    } catch (e) {
      const error = e instanceof JoinError ? e : new JoinError('Failed', (e as Error)?.message ?? String(e), { cause: e });
      if (error.code === 'Failed') this.matchmaker.report(error, client, `a join to '${frame.target}'`);
      if (!m.ended) this.joinError(peer, frame.request, error);
    } finally {
      m.pending--;
    }
  }

  private async list(peer: RoomPeer, frame: Extract<RoomFrame, { op: 'list' }>): Promise<void> {
    let body: Uint8Array;
    if (!this.membership(peer).asks.take(1, this.matchmaker.env.now())) {
      this.sendTo(peer, encodeRoomFrame({ op: 'rooms', request: frame.request, body: encode([]) }));
      return;
    }
    try {
      const listings = await this.matchmaker.query({ name: frame.name || undefined, available: true, sort: { createdAt: 1 }, limit: 512 });
      body = encode(
        listings.map((l) => ({
          roomId: l.roomId,
          name: l.name,
          clients: l.clients,
          maxClients: l.maxClients,
          metadata: l.metadata ?? null,
        })),
      );
    } catch (e) {
      this.matchmaker.report(e, undefined, 'listing rooms');
      body = encode([]);
    }
    this.sendTo(peer, encodeRoomFrame({ op: 'rooms', request: frame.request, body }));
  }

  /** The room is in another process: the client is told where, and what to join there with. */
  private redirect(peer: RoomPeer, request: number, to: Redirect['redirect'], m: Membership): void {
    if (!m.ended) this.sendTo(peer, encodeRoomFrame({ op: 'redirect', request, method: to.method, target: to.target, url: to.url }));
  }

  private joinError(peer: RoomPeer, request: number, e: JoinError): void {
    this.sendTo(peer, encodeRoomFrame({ op: 'join-error', request, code: JoinErrorCode[e.code], message: e.message.slice(0, 1000) }));
  }

  private sendTo(peer: RoomPeer, frame: Uint8Array): void {
    try {
      peer.send(channelIndex(this.matchmaker.layout, 'reliable-ordered'), frame);
    } catch {
      // The session is closing or its queue is full: it learns of its end on its own.
    }
  }
}
