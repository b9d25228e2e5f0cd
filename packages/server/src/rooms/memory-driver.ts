/**
 * The matchmaker's default storage: listings in a Map of this process, changes told synchronously. What one
 * server process needs; nothing external to start.
 */

import type { Unsubscribe } from '@volley/protocol';
import type { MatchmakerDriver, Presence } from './matchmaker-driver.js';
import { ListingWatchers } from './listing-watchers.js';
import { copyListing, selectListings, type ListingChange, type ListingQuery, type RoomListing } from './room-listing.js';

export class MemoryDriver implements MatchmakerDriver {
  private readonly listings = new Map<string, RoomListing>();
  private readonly watchers = new ListingWatchers();

  async add(listing: RoomListing): Promise<void> {
    this.listings.set(listing.roomId, copyListing(listing));
    this.watchers.tell({ type: 'add', listing: copyListing(listing) });
  }

  async update(roomId: string, changes: Partial<RoomListing>): Promise<void> {
    const l = this.listings.get(roomId);
    if (!l) return;
    Object.assign(l, changes);
    this.watchers.tell({ type: 'update', listing: copyListing(l) });
  }

  async remove(roomId: string): Promise<void> {
    const l = this.listings.get(roomId);
    if (!l) return;
    this.listings.delete(roomId);
    this.watchers.tell({ type: 'remove', roomId, name: l.name });
  }

  async get(roomId: string): Promise<RoomListing | undefined> {
    const l = this.listings.get(roomId);
    return l && copyListing(l);
  }

  async query(query: ListingQuery): Promise<RoomListing[]> {
    return selectListings(this.listings.values(), query);
  }

  watch(listener: (change: ListingChange) => void): Unsubscribe {
    return this.watchers.add(listener);
  }
}

/** Locks within this process: callers of one key run one after another. */
export class MemoryPresence implements Presence {
  private readonly tails = new Map<string, Promise<unknown>>();

  async withLock<T>(key: string, _ttlMs: number, critical: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(critical, critical);
    const tail = run.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
