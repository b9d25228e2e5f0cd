// The lobby (docs/rooms.md, "Lobby"): a client in it sees the rooms it could join, live.
import { describe, expect, it } from 'vitest';
import { LobbyRoom, Room } from '@volley/server';
import { RoomTestbed } from '@volley/testing';

class Battle extends Room {
  override maxClients = 2;
}
class Chat extends Room {}

describe('LobbyRoom', () => {
  it('lists the available rooms on join, then tells of new, changed and gone ones', async () => {
    const bed = new RoomTestbed({ seed: 1, link: { latency: 10 } });
    bed.define('lobby', LobbyRoom);
    bed.define('battle', Battle);
    bed.define('chat', Chat);
    const host = await bed.connect();
    const first = await host.create('battle');
    await (await bed.connect()).create('chat');

    const watcher = await bed.connect();
    const lobby = await watcher.joinOrCreate('lobby', { name: 'battle' });
    const seen = new Map<string, { clients: number }>();
    const log: string[] = [];
    lobby.onMessage('rooms', (all) => {
      for (const r of all as { roomId: string; clients: number }[]) seen.set(r.roomId, r);
      log.push(`rooms ${(all as unknown[]).length}`);
    });
    lobby.onMessage('+', (m) => {
      const [id, r] = m as [string, { clients: number }];
      seen.set(id, r);
      log.push(`+ ${id === first.roomId ? 'first' : 'other'} ${r.clients}`);
    });
    lobby.onMessage('-', (id) => {
      seen.delete(id as string);
      log.push(`- ${id === first.roomId ? 'first' : 'other'}`);
    });
    await bed.settle();
    expect(log).toEqual(['rooms 1']); // the battle, not the chat, not the lobby

    const second = await (await bed.connect()).joinById(first.roomId); // full now: it goes
    await bed.settle();
    const other = await (await bed.connect()).create('battle');
    await bed.settle();
    expect(seen.has(first.roomId)).toBe(false);
    expect([...seen.keys()]).toEqual([other.roomId]);
    await bed.until(second.leave()); // a seat again: it comes back
    await bed.settle();
    expect(seen.get(first.roomId)?.clients).toBe(1);
    await bed.until(first.leave()); // empty: disposed, gone
    await bed.settle();
    expect([...seen.keys()]).toEqual([other.roomId]);
    expect(log).toContain('- first');
  });
});
