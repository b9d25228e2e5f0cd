/**
 * What a client's rooms need of its session: sending frames, the channel layout, lag figures, the server's
 * clock, and a way to run something once the code awaiting a join has run. The Client is one; @volley/testing's
 * simulated client is another.
 */

import type { Schema } from '@colyseus/schema';
import type { ChannelChoice, RedirectMethod } from '@volley/protocol';
import type { StateClass } from './client-rooms.js';
import type { Room } from './room.js';

export interface RoomLink {
  /** Queues a protocol message on a channel. Throws SendError. */
  send(channel: number, bytes: Uint8Array): void;
  /** A channel's index in the session's layout. */
  channel(choice: ChannelChoice): number;
  /** Smoothed round-trip time, ms. */
  rtt(): number;
  /** The server's clock now, ms. */
  serverTime(): number;
  /** Runs `run` after every pending continuation (a macrotask: `setTimeout(run, 0)` in a browser or Node). */
  defer(run: () => void): void;
  /** The origin of the server process the session is to (`http://host:port`), where one is known. */
  readonly origin?: string;
  /** Deepest MessagePack nesting accepted from the server. */
  readonly maxMessageDepth: number;
  /** Something the application should hear of (a handler threw, the server sent something unusable). */
  report(error: unknown): void;
  /**
   * The room of a join is in another server process (a REDIRECT): joins it there, on a session to `url`.
   * Absent where a client cannot follow one (a session opened for a redirect: a join is redirected once).
   */
  redirect?<S extends Schema>(
    to: { url: string; method: RedirectMethod; target: string },
    options: unknown,
    stateClass: StateClass<S> | undefined,
    revive: Room<S> | undefined,
  ): Promise<Room<S>>;
}
