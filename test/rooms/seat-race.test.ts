// A room's creator is promised its seat before anyone can find the room: with a driver whose writes take a
// while (Redis across a network), the room is searchable locally while its listing is still being written,
// and joins racing the creation used to fill it, the creator's seat then forced past maxClients.
import { afterEach, describe, expect, it } from 'vitest';
import { connect, type Client } from '@volley/client';
import { MemoryDriver, Room, Server, type RoomListing } from '@volley/server';

class Small extends Room {
  override maxClients = 3;
}

/** The memory driver, with every write finishing 30 ms after it is visible (as a remote store's would). */
class SlowDriver extends MemoryDriver {
  override async add(listing: RoomListing): Promise<void> {
    await super.add(listing);
    await new Promise((r) => setTimeout(r, 30));
  }
}

let server: Server | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.close();
});

describe('joinOrCreate racing a creation', () => {
  it('never seats more than maxClients, whatever the driver’s latency', async () => {
    server = new Server({ port: 0, transports: ['websocket'], rooms: { driver: new SlowDriver() } });
    server.define('small', Small);
    await server.listen();
    for (let i = 0; i < 12; i++) clients.push(await connect(server.address().url, { transports: ['websocket'] }));
    const rooms = await Promise.all(clients.map((c) => c.joinOrCreate('small')));
    const sizes = new Map<string, number>();
    for (const r of rooms) sizes.set(r.roomId, (sizes.get(r.roomId) ?? 0) + 1);
    expect([...sizes.values()].every((n) => n <= 3)).toBe(true);
    expect(server.matchmaker.localRooms.every((r) => r.room.clients.length <= 3)).toBe(true);
  });
});
