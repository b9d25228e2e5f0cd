// Reconnection (docs/rooms.md, "Reconnection"): a dropped client's seat is held; the client comes back on a new
// session with its Room (same object, state resynced, unreceived messages sent again exactly once) or with its
// token (a new Room, e.g. after a page reload), or it is gone for good when the hold expires.
import { describe, expect, it } from 'vitest';
import { schema, t, type SchemaType } from '@colyseus/schema';
import { LeaveCode, Room, type RoomClient } from '@volley/server';
import { RoomTestbed } from '@volley/testing';

const Seat = schema({ score: t.number(), got: t.array('number') }, 'RcSeat');
const Table = schema({ seats: t.map(Seat), round: t.number() }, 'RcTable');
type Table = SchemaType<typeof Table>;

class TableRoom extends Room<Table> {
  events: string[] = [];
  override onCreate(): void {
    this.setState(new Table().assign({ round: 0 }));
    this.onMessage('n', (client, n) => this.state.seats.get(client.sessionId)?.got.push(n as number));
  }
  override onJoin(client: RoomClient): void {
    this.state.seats.set(client.sessionId, new Seat().assign({ score: 0 }));
  }
  override onDrop(client: RoomClient): void {
    this.events.push(`drop ${client.sessionId}`);
    this.allowReconnection(client, 10).then(
      () => this.events.push(`back ${client.sessionId}`),
      () => this.events.push(`expired ${client.sessionId}`),
    );
  }
  override onReconnect(client: RoomClient): void {
    this.events.push(`reconnect ${client.sessionId}`);
  }
  override onLeave(client: RoomClient, code: number): void {
    this.events.push(`leave ${client.sessionId} ${code}`);
    this.state.seats.delete(client.sessionId);
  }
}

async function setup(seed: number, link = {}) {
  const bed = new RoomTestbed({ seed, link, protocol: { timeout: 2000 } });
  bed.define('table', TableRoom);
  const other = await (await bed.connect()).joinOrCreate('table', {}, Table);
  const client = await bed.connect();
  const room = await client.joinOrCreate('table', {}, Table);
  return { bed, other, client, room, server: bed.room<TableRoom>(room.roomId) };
}

describe('reconnection', () => {
  it('with its Room: the same object, its state resynced, messages it sent that never arrived sent again, once', async () => {
    const { bed, other, client, room, server } = await setup(4, { latency: 30 });
    const changes: number[] = [];
    room.onStateChange((s) => changes.push(s.round));
    for (let n = 1; n <= 5; n++) room.send('n', n);
    await bed.settle();
    // The link dies with messages 6..10 in flight: the server never gets them.
    client.session.cut = true;
    for (let n = 6; n <= 10; n++) room.send('n', n);
    server.state.round = 7; // changes while the client is away
    await bed.advance(3000); // both ends time out
    expect(room.joined).toBe(false);
    expect(server.events).toContain(`drop ${room.sessionId}`);
    const again = await (await bed.connect()).reconnect(room);
    expect(again).toBe(room);
    await bed.settle();
    expect(server.state.seats.get(room.sessionId)?.got.toArray()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(room.state.round).toBe(7);
    expect(changes).toContain(7);
    expect(room.state.seats.size).toBe(2);
    // (allowReconnection's promise settles after the hook it caused has run)
    expect(server.events).toEqual([`drop ${room.sessionId}`, `reconnect ${room.sessionId}`, `back ${room.sessionId}`]);
    room.send('n', 11);
    await bed.settle();
    expect(other.state.seats.get(room.sessionId)?.got.toArray()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('with its token, after a "reload": a new Room in the same seat with the full state', async () => {
    const { bed, client, room, server } = await setup(6, { loss: 0.1, latency: 20 });
    room.send('n', 42);
    await bed.settle();
    const token = room.reconnectionToken;
    client.vanish(); // the tab is gone
    await bed.advance(3000);
    const fresh = await (await bed.connect()).reconnect(token, Table);
    expect(fresh).not.toBe(room);
    expect(fresh.sessionId).toBe(room.sessionId);
    expect(fresh.state.seats.get(fresh.sessionId)?.got.toArray()).toEqual([42]);
    expect(server.clients.map((c) => c.state)).toEqual(['joined', 'joined']);
    // The new Room numbers its messages on from the seat's last one: the server takes them, once.
    fresh.send('n', 43);
    await bed.settle();
    expect(server.state.seats.get(fresh.sessionId)?.got.toArray()).toEqual([42, 43]);
  });

  it('takes the seat over while the server still thinks the old session is alive', async () => {
    const { bed, client, room, server } = await setup(7);
    client.vanish();
    await bed.advance(100); // well within the protocol timeout: the old session still counts as joined
    const fresh = await (await bed.connect()).reconnect(room.reconnectionToken, Table);
    expect(fresh.sessionId).toBe(room.sessionId);
    expect(server.clients.filter((c) => c.state === 'joined')).toHaveLength(2);
    await bed.advance(3000); // the old session times out now: it is no longer in the room, nothing drops
    expect(server.events).toEqual([`reconnect ${room.sessionId}`]);
    expect(server.clients).toHaveLength(2);
  });

  it('a token whose hold has expired is refused with expired, and the seat is gone (onLeave once)', async () => {
    const { bed, client, room, server } = await setup(8);
    client.vanish();
    await bed.advance(14_000); // timeout 2 s + hold 10 s
    expect(server.events).toEqual([
      `drop ${room.sessionId}`,
      `leave ${room.sessionId} ${LeaveCode.ReconnectionExpired}`,
      `expired ${room.sessionId}`,
    ]);
    const e = await (await bed.connect()).reconnect(room.reconnectionToken, Table).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('expired');
  });

  it('a forged token is refused; the seat stays held for its owner', async () => {
    const { bed, client, room } = await setup(9);
    client.vanish();
    await bed.advance(3000);
    const thief = await bed.connect();
    const e = await thief.reconnect(`${room.roomId}:guessed-secret`, Table).catch((x: unknown) => x);
    expect((e as { code: string }).code).toBe('expired');
    const back = await (await bed.connect()).reconnect(room.reconnectionToken, Table);
    expect(back.sessionId).toBe(room.sessionId);
  });
});
