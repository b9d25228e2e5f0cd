/**
 * A lobby: clients in it see the rooms they could join, live (docs/rooms.md, "Lobby"). On join a client gets
 * `rooms` (every available room, or those of the type named in its `{ name }` option), then `+` with
 * `[roomId, room]` when one appears or changes, and `-` with the roomId when one goes (locked, full,
 * private, or disposed). A room's entry is `{ roomId, name, clients, maxClients, metadata }`.
 *
 *   server.define('lobby', LobbyRoom);
 *   const lobby = await client.joinOrCreate('lobby', { name: 'battle' });
 *   lobby.onMessage('rooms', (all) => …); lobby.onMessage('+', ([id, room]) => …); lobby.onMessage('-', (id) => …);
 */

import type { Unsubscribe } from '@volley/protocol';
import type { RoomClient } from './room-client.js';
import type { ListingChange, RoomListing } from './room-listing.js';
import { Room } from './room.js';

export interface LobbyEntry {
  roomId: string;
  name: string;
  clients: number;
  maxClients: number;
  metadata: unknown;
}

function entry(l: RoomListing): LobbyEntry {
  return { roomId: l.roomId, name: l.name, clients: l.clients, maxClients: l.maxClients, metadata: l.metadata ?? null };
}

function available(l: RoomListing): boolean {
  return !l.locked && !l.private && l.clients < l.maxClients;
}

export class LobbyRoom extends Room {
  override autoDispose = false;
  private unwatch: Unsubscribe | undefined;
  /** What each client asked to see: a room type name, or every type. */
  private readonly filters = new Map<RoomClient, string | undefined>();
  /** The rooms each client was told of (so a room that stops being available is told as '-' once). */
  private readonly shown = new Map<RoomClient, Set<string>>();

  override onCreate(): void {
    this.unwatch = this.listings.watch((change) => this.changed(change));
  }

  override async onJoin(client: RoomClient, options: unknown): Promise<void> {
    const name = (options as { name?: unknown } | undefined)?.name;
    const filter = typeof name === 'string' ? name : undefined;
    this.filters.set(client, filter);
    const all = (await this.listings.query({ name: filter, available: true, sort: { createdAt: 1 } })).filter(
      (l) => l.name !== this.roomName,
    );
    this.shown.set(client, new Set(all.map((l) => l.roomId)));
    client.send('rooms', all.map(entry));
  }

  override onLeave(client: RoomClient): void {
    this.filters.delete(client);
    this.shown.delete(client);
  }

  override onDispose(): void {
    this.unwatch?.();
  }

  private changed(change: ListingChange): void {
    const roomId = change.type === 'remove' ? change.roomId : change.listing.roomId;
    const name = change.type === 'remove' ? change.name : change.listing.name;
    if (name === this.roomName) return; // lobbies do not list lobbies
    for (const c of this.clients) {
      if (c.state !== 'joined') continue;
      const filter = this.filters.get(c);
      if (filter !== undefined && filter !== name) continue;
      const shown = this.shown.get(c) ?? new Set<string>();
      if (change.type !== 'remove' && available(change.listing)) {
        shown.add(roomId);
        c.send('+', [roomId, entry(change.listing)]);
      } else if (shown.delete(roomId)) {
        c.send('-', roomId);
      }
    }
  }
}
