/**
 * A room as matchmaking sees it: the entry every process shares through the matchmaker's driver (in memory
 * by default, Redis when several processes share matchmaking), what `getAvailableRooms` lists, and what
 * filters and sorting run against.
 */

export interface RoomListing<Metadata = Record<string, unknown>> {
  roomId: string;
  /** The room type's name (what `define()` registered). */
  name: string;
  /** The process that runs the room. */
  processId: string;
  /** Seats taken: joined clients, clients held for a reconnection, and seat reservations not used yet. */
  clients: number;
  maxClients: number;
  /** Locked (by the room, or because it is full): no new client may join. */
  locked: boolean;
  /** Private: only `joinById` finds it; never listed. */
  private: boolean;
  /** The room's metadata (`setMetadata`): anything MessagePack can carry. */
  metadata: Metadata | undefined;
  /** The values of the definition's `filterBy` options the room was created with. */
  filters: Record<string, unknown>;
  /** When the room was created (ms since the epoch). */
  createdAt: number;
}

/** What a query selects and how it orders: equality on filter values and metadata, sort on figures or metadata. */
export interface ListingQuery {
  name?: string;
  /** Only rooms a client could join now: not locked, not private, a seat free. */
  available?: boolean;
  /** Each key must equal the room's filter value of that name (`filterBy`). */
  filters?: Record<string, unknown>;
  /** Each key must equal the room's metadata value of that name. */
  metadata?: Record<string, unknown>;
  /** Keys in priority order: 'clients', 'maxClients', 'createdAt', or 'metadata.<key>'; 1 ascending, -1 descending. */
  sort?: Record<string, 1 | -1>;
  roomId?: string;
  limit?: number;
}

export type ListingChange = { type: 'add' | 'update'; listing: RoomListing } | { type: 'remove'; roomId: string; name: string };

function valueAt(l: RoomListing, key: string): unknown {
  if (key.startsWith('metadata.')) return l.metadata?.[key.slice(9)];
  return (l as unknown as Record<string, unknown>)[key];
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Whether `l` is selected by `q`. */
export function matchesQuery(l: RoomListing, q: ListingQuery): boolean {
  if (q.roomId !== undefined && l.roomId !== q.roomId) return false;
  if (q.name !== undefined && l.name !== q.name) return false;
  if (q.available && (l.locked || l.private || l.clients >= l.maxClients)) return false;
  for (const [k, v] of Object.entries(q.filters ?? {})) if (!equal(l.filters[k], v)) return false;
  const meta = l.metadata ?? {};
  for (const [k, v] of Object.entries(q.metadata ?? {})) if (!equal(meta[k], v)) return false;
  return true;
}

/** Orders listings by `sort` (then by age, oldest first, so the order is stable). */
export function sortListings(listings: RoomListing[], sort: Record<string, 1 | -1> | undefined): RoomListing[] {
  const keys = Object.entries(sort ?? {});
  return listings.sort((a, b) => {
    for (const [key, dir] of keys) {
      const x = valueAt(a, key);
      const y = valueAt(b, key);
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (x! < y! ? -1 : 1) * dir;
    }
    return a.createdAt - b.createdAt || (a.roomId < b.roomId ? -1 : 1);
  });
}

/** A copy of a listing that shares nothing with it (drivers hand out copies, never their own). */
export function copyListing(l: RoomListing): RoomListing {
  return { ...l, filters: { ...l.filters }, metadata: l.metadata === undefined ? undefined : structuredClone(l.metadata) };
}

/** The listings `query` selects among `all` (and `keep` lets through), copied, in its order, up to its limit. */
export function selectListings(
  all: Iterable<RoomListing>,
  query: ListingQuery,
  keep: (l: RoomListing) => boolean = () => true,
): RoomListing[] {
  const out: RoomListing[] = [];
  for (const l of all) if (keep(l) && matchesQuery(l, query)) out.push(copyListing(l));
  const sorted = sortListings(out, query.sort);
  return query.limit !== undefined ? sorted.slice(0, query.limit) : sorted;
}
