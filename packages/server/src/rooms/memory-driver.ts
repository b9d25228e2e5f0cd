/**
 * The matchmaker's default storage: listings in a Map of this process, changes told synchronously. What one
 * server process needs; nothing external to start.
 */

import type { Unsubscribe } from '@volley/protocol';
import type { MatchmakerDriver, Presence } from './matchmaker-driver.js';
import { matchesQuery, sortListings, type ListingChange, type ListingQuery, type RoomListing } from './room-listing.js';

function copy(l: RoomListing): RoomListing {
  return { ...l, filters: { ...l.filters }, metadata: l.metadata === undefined ? undefined : structuredClone(l.metadata) };
}

export class MemoryDriver implements MatchmakerDriver {
  private readonly listings = new Map<string, RoomListing>();
  private readonly listeners = new Set<(change: ListingChange) => void>();

  async add(listing: RoomListing): Promise<void> {
    this.listings.set(listing.roomId, copy(listing));
    this.tell({ type: 'add', listing: copy(listing) });
  }

  async update(roomId: string, changes: Partial<RoomListing>): Promise<void> {
    const l = this.listings.get(roomId);
    if (!l) return;
    Object.assign(l, changes);
    this.tell({ type: 'update', listing: copy(l) });
  }

  async remove(roomId: string): Promise<void> {
    const l = this.listings.get(roomId);
    if (!l) return;
    this.listings.delete(roomId);
    this.tell({ type: 'remove', roomId, name: l.name });
  }

  async get(roomId: string): Promise<RoomListing | undefined> {
    const l = this.listings.get(roomId);
    return l && copy(l);
  }

  async query(query: ListingQuery): Promise<RoomListing[]> {
    const out: RoomListing[] = [];
    for (const l of this.listings.values()) if (matchesQuery(l, query)) out.push(copy(l));
    const sorted = sortListings(out, query.sort);
    return query.limit !== undefined ? sorted.slice(0, query.limit) : sorted;
  }

  watch(listener: (change: ListingChange) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private tell(change: ListingChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (e) {
        console.error('volley matchmaker: a listing watcher threw', e);
      }
    }
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
