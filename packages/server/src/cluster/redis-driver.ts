/**
 * Room listings shared through Redis (docs/scaling.md). Each listing is written only by the process that runs
 * its room, as a MessagePack value in the hash `<prefix>rooms`, with the set `<prefix>rooms-of:<processId>`
 * naming each process's rooms, and every change is published on `<prefix>listings`.
 *
 * Every process keeps a mirror of all listings, loaded at start and kept by those messages, and answers
 * queries from it: a join costs no Redis round trip to search, and the room's own process has the last word
 * when the seat is asked for (a listing a moment stale costs a retry, never a wrong join). Listings of a
 * process that stopped heartbeating are left out at once (`alive`) and removed from Redis by the sweep.
 * After Redis comes back (a restart keeps nothing) each process writes its own listings again and reloads
 * the mirror.
 */

import { decode, encode } from '@msgpack/msgpack';
import type { Unsubscribe } from '@volley/protocol';
import type { MatchmakerDriver } from '../rooms/matchmaker-driver.js';
import { ListingWatchers } from '../rooms/listing-watchers.js';
import { copyListing, selectListings, type ListingChange, type ListingQuery, type RoomListing } from '../rooms/room-listing.js';
import type { RedisLink, RedisReport } from './redis-link.js';

function isListing(v: unknown): v is RoomListing {
  const l = v as RoomListing;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.roomId === 'string' &&
    typeof l.name === 'string' &&
    typeof l.processId === 'string' &&
    typeof l.clients === 'number' &&
    typeof l.maxClients === 'number' &&
    typeof l.filters === 'object' &&
    l.filters !== null
  );
}

interface Published {
  from: string;
  change: ListingChange;
}

export class RedisDriver implements MatchmakerDriver {
  /** Every process's listings, as last heard. */
  private readonly mirror = new Map<string, RoomListing>();
  /** This process's listings: the truth, written again whenever Redis comes back. */
  private readonly own = new Map<string, RoomListing>();
  private readonly watchers = new ListingWatchers();
  /** Listings removed while Redis was away, still to remove there. */
  private readonly removals = new Map<string, string>();
  private readonly rooms: string;
  private readonly channel: string;
  private timer: ReturnType<typeof setInterval> | undefined;
  private again: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly link: RedisLink,
    private readonly processId: string,
    /** Whether a process is heartbeating (its listings count). */
    private readonly alive: (processId: string) => boolean,
    private readonly report: RedisReport,
    /** How often the whole listing is read again, ms. */
    private readonly reloadMs = 10_000,
  ) {
    this.rooms = link.key('rooms');
    this.channel = link.key('listings');
  }

  async start(): Promise<void> {
    await this.link.subscribe(this.channel, (m) => this.heard(m));
    await this.reload();
    this.link.onReady(() => void this.recover());
    // Changes published while a subscription was being made again are missed: reading everything now and
    // then mends the mirror (a few hundred bytes a listing).
    this.timer = setInterval(() => {
      if (this.link.up) this.reload().catch((e: unknown) => this.report(e, 'reading the listings from Redis'));
    }, this.reloadMs);
    this.timer.unref?.();
  }

  /** Stops reading the listings now and then (the process leaves). */
  stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.again);
  }

  async add(listing: RoomListing): Promise<void> {
    const l = copyListing(listing);
    this.own.set(l.roomId, l);
    this.mirror.set(l.roomId, l);
    try {
      await this.write(l, 'add');
    } catch (e) {
      // Not listed: the room is not created (the matchmaker disposes it), so it must not come back later.
      this.own.delete(l.roomId);
      this.mirror.delete(l.roomId);
      throw new Error(`cannot list the room on Redis: ${(e as Error).message}`, { cause: e });
    }
    this.watchers.tell({ type: 'add', listing: copyListing(l) });
  }

  async update(roomId: string, changes: Partial<RoomListing>): Promise<void> {
    const l = this.own.get(roomId);
    if (!l) return;
    Object.assign(l, changes, { roomId: l.roomId, name: l.name, processId: l.processId });
    this.watchers.tell({ type: 'update', listing: copyListing(l) });
    // While Redis is away the change waits: everything this process lists is written again when it is back.
    if (this.link.up) await this.write(l, 'update');
  }

  async remove(roomId: string): Promise<void> {
    const l = this.own.get(roomId);
    if (!l) return;
    this.own.delete(roomId);
    this.mirror.delete(roomId);
    const change: ListingChange = { type: 'remove', roomId, name: l.name };
    this.watchers.tell(change);
    if (!this.link.up) {
      this.removals.set(roomId, l.name); // done when Redis is back
      return;
    }
    await this.unlist(roomId, change);
  }

  private async unlist(roomId: string, change: ListingChange): Promise<void> {
    await this.link.commands
      .multi()
      .hdel(this.rooms, roomId)
      .srem(this.link.key('rooms-of', this.processId), roomId)
      .publish(this.channel, Buffer.from(encode({ from: this.processId, change } satisfies Published)))
      .exec();
  }

  async get(roomId: string): Promise<RoomListing | undefined> {
    const l = this.mirror.get(roomId);
    return l && this.alive(l.processId) ? copyListing(l) : undefined;
  }

  async query(query: ListingQuery): Promise<RoomListing[]> {
    return selectListings(this.mirror.values(), query, (l) => this.alive(l.processId));
  }

  watch(listener: (change: ListingChange) => void): Unsubscribe {
    return this.watchers.add(listener);
  }

  /** Removes the listings of a process that is gone (the sweep, run by one live process under a lock). */
  async removeProcess(processId: string): Promise<number> {
    if (processId === this.processId) return 0;
    const set = this.link.key('rooms-of', processId);
    const ids = await this.link.commands.smembers(set);
    const m = this.link.commands.multi();
    for (const roomId of ids) {
      const name = this.mirror.get(roomId)?.name ?? '';
      m.hdel(this.rooms, roomId).publish(
        this.channel,
        Buffer.from(encode({ from: this.processId, change: { type: 'remove', roomId, name } } satisfies Published)),
      );
    }
    m.del(set);
    await m.exec();
    // Listings the set did not name (written before a Redis restart lost the set): from the mirror.
    for (const l of [...this.mirror.values()]) if (l.processId === processId) this.forget(l.roomId);
    return ids.length;
  }

  /** Stops this process's listings from counting anywhere (it is shutting down): removes them from Redis. */
  async removeOwn(): Promise<void> {
    for (const roomId of [...this.own.keys()]) await this.remove(roomId).catch(() => undefined);
  }

  private async write(l: RoomListing, type: 'add' | 'update'): Promise<void> {
    await this.link.commands
      .multi()
      .hset(this.rooms, l.roomId, Buffer.from(encode(l)))
      .sadd(this.link.key('rooms-of', this.processId), l.roomId)
      .publish(this.channel, Buffer.from(encode({ from: this.processId, change: { type, listing: l } } satisfies Published)))
      .exec();
  }

  /** A change another process published. */
  private heard(message: Buffer): void {
    let p: Published;
    try {
      p = decode(message) as Published;
    } catch (e) {
      this.report(e, 'an unreadable listing change on Redis');
      return;
    }
    if (typeof p !== 'object' || p === null || p.from === this.processId || typeof p.change !== 'object' || p.change === null) return;
    const c = p.change;
    if (c.type === 'remove') {
      if (typeof c.roomId === 'string' && !this.own.has(c.roomId)) this.forget(c.roomId);
    } else if ((c.type === 'add' || c.type === 'update') && isListing(c.listing) && c.listing.processId !== this.processId) {
      this.mirror.set(c.listing.roomId, c.listing);
      this.watchers.tell({ type: c.type, listing: copyListing(c.listing) });
    }
  }

  private forget(roomId: string): void {
    const l = this.mirror.get(roomId);
    if (!l) return;
    this.mirror.delete(roomId);
    this.watchers.tell({ type: 'remove', roomId, name: l.name });
  }

  /** Reads every listing again (at start, and after Redis or the subscription came back). */
  private async reload(): Promise<void> {
    const all = await this.link.commands.hgetallBuffer(this.rooms);
    const seen = new Set<string>();
    for (const [roomId, value] of Object.entries(all)) {
      let l: unknown;
      try {
        l = decode(value);
      } catch {
        continue;
      }
      if (!isListing(l) || l.roomId !== roomId || l.processId === this.processId) continue;
      seen.add(roomId);
      const had = this.mirror.has(roomId);
      this.mirror.set(roomId, l);
      this.watchers.tell({ type: had ? 'update' : 'add', listing: copyListing(l) });
    }
    for (const l of [...this.mirror.values()]) if (!this.own.has(l.roomId) && !seen.has(l.roomId)) this.forget(l.roomId);
  }

  private async recover(): Promise<void> {
    try {
      for (const [roomId, name] of [...this.removals]) {
        await this.unlist(roomId, { type: 'remove', roomId, name });
        this.removals.delete(roomId);
      }
      for (const l of this.own.values()) await this.write(l, 'update');
      await this.reload();
      // The other processes write theirs again at about the same time, some maybe before this subscription
      // was back: read once more when they have.
      clearTimeout(this.again);
      this.again = setTimeout(() => void this.reload().catch(() => undefined), 1000);
      this.again.unref?.();
    } catch (e) {
      this.report(e, 'writing this process’s listings to Redis again');
    }
  }
}
