/**
 * A simulated client of a RoomTestbed: one session over its own seeded link, with the SDK's room API
 * (the same ClientRooms a real Client uses). Methods that wait for the server advance simulated time until
 * the answer is there.
 */

import type { Schema } from '@colyseus/schema';
import { ClientRooms, type Room, type RoomAvailable, type StateClass } from '@volley/client';
import { channelIndex, reasonName, SendError, type ChannelOptions, type ConnectionEvent } from '@volley/protocol';
import type { RoomTestbed } from './room-testbed.js';
import type { SimSession } from './sim-session.js';

export class TestClient {
  readonly rooms: ClientRooms;
  /** Errors the client's rooms reported (unusable frames, throwing handlers). */
  readonly errors: unknown[] = [];
  /** Why the session ended, once it has. */
  ended: { reason: number; text: string } | undefined;

  /** @internal made by the testbed */
  constructor(
    private readonly bed: RoomTestbed,
    /** The simulated session (its Connections and its LinkSimulator). */
    readonly session: SimSession,
    layout: readonly ChannelOptions[],
  ) {
    this.rooms = new ClientRooms({
      send: (channel, bytes) => {
        if (session.client.state !== 'connected') throw new SendError('closed', 'the session is not connected');
        session.client.send(channel, bytes, bed.now);
      },
      channel: (choice) => channelIndex(layout, choice),
      rtt: () => session.client.stats().rtt.smoothed,
      serverTime: () => session.client.peerTime(bed.now),
      defer: (run) => void bed.scheduler.after(0, run),
      maxMessageDepth: 64,
      report: (e) => this.errors.push(e),
    });
  }

  get id(): number {
    return this.session.id;
  }

  joinOrCreate<S extends Schema = Schema>(name: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.wait(this.rooms.join('joinOrCreate', name, options, State), `joinOrCreate('${name}')`);
  }

  create<S extends Schema = Schema>(name: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.wait(this.rooms.join('create', name, options, State), `create('${name}')`);
  }

  join<S extends Schema = Schema>(name: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.wait(this.rooms.join('join', name, options, State), `join('${name}')`);
  }

  joinById<S extends Schema = Schema>(roomId: string, options?: unknown, State?: StateClass<S>): Promise<Room<S>> {
    return this.wait(this.rooms.join('joinById', roomId, options, State), `joinById('${roomId}')`);
  }

  /** As `client.reconnect`: a Room of an ended session comes back to life, or a token takes a new Room to the seat. */
  reconnect<S extends Schema = Schema>(room: Room<S> | string, State?: StateClass<S>): Promise<Room<S>> {
    const p =
      typeof room === 'string'
        ? this.rooms.join('reconnect', room, undefined, State)
        : this.rooms.join('reconnect', room.reconnectionToken, undefined, State, room);
    return this.wait(p, 'reconnect');
  }

  getAvailableRooms(name?: string): Promise<RoomAvailable[]> {
    return this.wait(this.rooms.list(name), 'getAvailableRooms');
  }

  /** Leaves the session cleanly (both ends are told). */
  close(): void {
    if (this.session.client.state === 'connected') this.session.client.disconnect(this.bed.now);
  }

  /**
   * The client vanishes: from now on nothing it sends arrives and nothing reaches it (a killed tab, a dead
   * network). The server notices by its timeout; the client's own session ends by its timeout too.
   */
  vanish(): void {
    this.session.cut = true;
  }

  /**
   * The network drops everything both ways for `ms` of simulated time, then carries traffic again (a tunnel,
   * a Wi-Fi hand-over). Unless the outage outlasts the session's timeout, the session lives through it.
   */
  outage(ms: number): void {
    this.session.cut = true;
    this.bed.scheduler.after(ms, () => {
      this.session.cut = false;
    });
  }

  /** @internal A protocol event of the client's Connection. */
  event(e: ConnectionEvent): void {
    if (e.type === 'message') this.rooms.receive(e.data);
    else if (e.type === 'disconnected') {
      this.ended = { reason: e.reason, text: e.text };
      this.rooms.sessionEnded(`${reasonName(e.reason)}${e.text ? `: ${e.text}` : ''}`);
    }
  }

  private async wait<T>(p: Promise<T>, what: string): Promise<T> {
    await this.bed.until(p, 60_000, what);
    return p;
  }
}
