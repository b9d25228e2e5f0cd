/**
 * Where the matchmaker keeps its room listings, and how it hears of changes to them: the seam between
 * matchmaking and storage. `MemoryDriver` (memory-driver.ts) is the default, for one process; a Redis
 * driver shares the listings between processes without any change to rooms or the matchmaker.
 *
 * Every method may be asynchronous (a network round trip); the matchmaker never holds a listing object
 * across calls, it asks again.
 */

import type { Unsubscribe } from '@volley/protocol';
import type { ListingChange, ListingQuery, RoomListing } from './room-listing.js';

export interface MatchmakerDriver {
  add(listing: RoomListing): Promise<void>;
  /** Merges `changes` into the listing (no-op if it is gone). */
  update(roomId: string, changes: Partial<Omit<RoomListing, 'roomId' | 'name' | 'processId'>>): Promise<void>;
  remove(roomId: string): Promise<void>;
  get(roomId: string): Promise<RoomListing | undefined>;
  /** The listings `query` selects, in its order, copies. */
  query(query: ListingQuery): Promise<RoomListing[]>;
  /** Tells `listener` of every change to any listing (lobbies and realtime listings use it). */
  watch(listener: (change: ListingChange) => void): Unsubscribe;
}

/**
 * What processes share besides listings: locks, so two joinOrCreate calls racing for a room that does not
 * exist yet create one room, not two. In memory by default (`MemoryPresence`).
 */
export interface Presence {
  /** Runs `critical` while holding `key` (across every process sharing this presence); `ttlMs` bounds the hold. */
  withLock<T>(key: string, ttlMs: number, critical: () => Promise<T>): Promise<T>;
}
