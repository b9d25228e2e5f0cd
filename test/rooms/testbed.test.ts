// @volley/testing: rooms and simulated clients in simulated time, deterministic.
import { describe, expect, it } from 'vitest';
import { schema, t, type SchemaType } from '@colyseus/schema';
import { LeaveCode, Room, type RoomClient } from '@volley/server';
import { RoomTestbed } from '@volley/testing';

const Player = schema({ x: t.number(), y: t.number() }, 'TbPlayer');
const Arena = schema({ players: t.map(Player) }, 'TbArena');
type Arena = SchemaType<typeof Arena>;

class ArenaRoom extends Room<Arena> {
  left: number[] = [];
  override onCreate(): void {
    this.setState(new Arena());
    this.onMessage('move', (client, m) => {
      const p = this.state.players.get(client.sessionId);
      if (p) Object.assign(p, m as object);
    });
  }
  override onJoin(client: RoomClient): void {
    this.state.players.set(client.sessionId, new Player().assign({ x: 0, y: 0 }));
  }
  override onDrop(client: RoomClient): void {
    void this.allowReconnection(client, 5);
  }
  override onLeave(client: RoomClient, code: number): void {
    this.left.push(code);
    this.state.players.delete(client.sessionId);
  }
}

describe('RoomTestbed', () => {
  it('joins, moves and sees others over a lossy link, in simulated time', async () => {
    const bed = new RoomTestbed({ seed: 3, link: { loss: 0.2, latency: 40, jitter: 20, duplicate: 0.05, reorder: 0.1 } });
    bed.define('arena', ArenaRoom);
    const a = await bed.connect();
    const b = await bed.connect();
    const ra = await a.joinOrCreate('arena', {}, Arena);
    const rb = await b.joinOrCreate('arena', {}, Arena);
    expect(rb.roomId).toBe(ra.roomId);
    for (let i = 1; i <= 20; i++) {
      ra.send('move', { x: i, y: -i });
      await bed.advance(16);
    }
    await bed.settle();
    expect(rb.state.players.get(ra.sessionId)?.toJSON()).toEqual({ x: 20, y: -20 });
    expect(bed.room<ArenaRoom>(ra.roomId).state.players.size).toBe(2);
    expect(bed.errors).toEqual([]);
  });

  it('a vanished client is dropped, its seat held, and it is gone for good when the hold expires', async () => {
    const bed = new RoomTestbed({ seed: 5, protocol: { timeout: 2000 } });
    bed.define('arena', ArenaRoom);
    const a = await bed.connect();
    const b = await bed.connect();
    const ra = await a.joinOrCreate('arena', {}, Arena);
    await b.joinOrCreate('arena', {}, Arena);
    const server = bed.room<ArenaRoom>(ra.roomId);
    b.vanish();
    await bed.advance(3000); // past the protocol timeout: dropped, held for 5 s
    expect(server.clients.map((c) => c.state).sort()).toEqual(['dropped', 'joined']);
    await bed.advance(6000);
    expect(server.clients).toHaveLength(1);
    expect(server.left).toEqual([LeaveCode.ReconnectionExpired]);
    await bed.settle();
    expect(ra.state.players.size).toBe(1);
  });

  it('is deterministic: the same seed gives the same room ids and seat ids', async () => {
    const run = async () => {
      const bed = new RoomTestbed({ seed: 11, link: { loss: 0.1, latency: 20 } });
      bed.define('arena', ArenaRoom);
      const c = await bed.connect();
      const r = await c.joinOrCreate('arena');
      return `${r.roomId}/${r.sessionId}@${bed.now}`;
    };
    expect(await run()).toBe(await run());
  });
});
