// Several server processes sharing matchmaking through a real redis-server (docs/scaling.md), here three
// Servers in this test process on loopback, each with its own HTTP and UDP ports: joins find rooms in any
// process and the client is redirected there; new rooms go to the least loaded process; listings, seat
// reservations and reconnection tokens work across processes; a Redis restart loses nothing for long.
// test/scaling/processes.test.ts does the same with real processes it can kill.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { schema, t, type SchemaType } from '@colyseus/schema';
import { connect, type Client, type Room as RoomOf } from '@volley/client';
import { Room, Server, type RoomClient } from '@volley/server';
import { haveRedis, RedisProcess } from '../support/redis.js';
import { eventually } from '../support/wait.js'; // every 250 ms: listings are rate-limited per session (5 a second)

const Arena = schema({ players: t.map('string'), process: t.string() }, 'ScaleArena');
type Arena = SchemaType<typeof Arena>;

class ArenaRoom extends Room<Arena> {
  override maxClients = 4;
  override onCreate(options: { process: string }): void {
    this.setState(new Arena());
    this.state.process = options.process;
    this.setPatchRate(20);
  }
  override onJoin(client: RoomClient, options: unknown): void {
    this.state.players.set(client.sessionId, (options as { name?: string } | undefined)?.name ?? '?');
  }
  override onDrop(client: RoomClient): void {
    this.allowReconnection(client, 10).catch(() => undefined);
  }
  override onLeave(client: RoomClient): void {
    this.state.players.delete(client.sessionId);
  }
}

let redis: RedisProcess;
const servers: Server[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  if (haveRedis || process.env.CI) redis = await RedisProcess.start();
});
afterAll(async () => {
  await redis?.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});

let prefixes = 0;
const prefixByServer = new Map<Server, string>();
const prefixOf = (s: Server): string => prefixByServer.get(s)!;
/** N processes on one Redis key prefix of their own (each test its own cluster). */
async function cluster(n: number, rooms: { maxRooms?: number; maxClients?: number } = {}, heartbeatMs = 100): Promise<Server[]> {
  const prefix = `t${process.pid}-${++prefixes}:`;
  const out: Server[] = [];
  for (let i = 0; i < n; i++) {
    const s = new Server({
      port: 0,
      udpPort: 0,
      transports: ['udp', 'websocket'],
      redis: { url: redis.url, prefix, heartbeatMs, expiryMs: heartbeatMs * 4 },
      rooms: { processId: `p${i}`, ...rooms },
    });
    s.define('arena', ArenaRoom, { process: `p${i}` });
    await s.listen();
    prefixByServer.set(s, prefix);
    servers.push(s);
    out.push(s);
  }
  // Every process has heard of every other one.
  await eventually('the heartbeats', () => out.every((s) => s.matchmaker.cluster?.processes().length === n), 5000 + heartbeatMs * 2);
  return out;
}

async function client(server: Server): Promise<Client> {
  const c = await connect(server.address().url, { transports: ['udp'] });
  clients.push(c);
  return c;
}

// Skipped only outside CI on a machine without redis-server (.ci/run installs it).
describe.skipIf(!haveRedis && !process.env.CI)('matchmaking across processes on Redis', () => {
  it('joinOrCreate from clients on three processes fills one room, wherever it is, then opens the next', async () => {
    const ps = await cluster(3);
    const joined: RoomOf<Arena>[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await client(ps[i % 3]!);
      joined.push(await c.joinOrCreate<Arena>('arena', { name: `bot${i}` }, Arena));
    }
    const first = joined.slice(0, 4);
    expect(new Set(first.map((r) => r.roomId)).size).toBe(1); // maxClients 4: the first four share a room
    expect(joined[4]!.roomId).toBe(joined[5]!.roomId);
    expect(joined[4]!.roomId).not.toBe(joined[0]!.roomId);
    // Each client sees the whole room's state, from the process that runs it.
    await eventually('the state', () => first.every((r) => r.state.players.size === 4), 5000);
    const owner = ps.find((s) => s.matchmaker.room(joined[0]!.roomId))!;
    expect(first[1]!.state.process).toBe(owner.matchmaker.processId);
    expect(owner.matchmaker.room(joined[0]!.roomId)!.room.clients).toHaveLength(4);
  });

  it('joinOrCreate racing on three processes opens no more rooms than the players need, none over its size', async () => {
    const ps = await cluster(3);
    const cs = await Promise.all(Array.from({ length: 48 }, (_, i) => client(ps[i % 3]!)));
    const joined = await Promise.all(cs.map((c, i) => c.joinOrCreate<Arena>('arena', { name: `p${i}` }, Arena)));
    const rooms = new Map<string, number>();
    for (const r of joined) rooms.set(r.roomId, (rooms.get(r.roomId) ?? 0) + 1);
    expect([...rooms.values()]).toEqual(Array.from({ length: 12 }, () => 4)); // maxClients 4: twelve full rooms, wherever they run
  });

  it('places new rooms on the least loaded process, and lists every process’s rooms everywhere', async () => {
    const ps = await cluster(3, { maxRooms: 10 });
    const c = await client(ps[0]!);
    const made: unknown[] = [];
    for (let i = 0; i < 6; i++) made.push(await c.create<Arena>('arena', {}, Arena));
    // Two rooms in each process, though every create was asked of p0.
    const per = ps.map((s) => s.matchmaker.localRooms.length);
    expect(per).toEqual([2, 2, 2]);
    for (const s of ps) {
      const other = await client(s);
      await eventually('the listing', async () => (await other.getAvailableRooms('arena')).length === 6, 5000);
    }
  });

  it('counts the seats of rooms it just placed elsewhere, so creations between two heartbeats spread out', async () => {
    // Heartbeats 2 s apart: the three creations below all fall between two of them. Load is by clients here
    // (maxClients 100): without counting a placed room's seats, the second process would get two rooms.
    const ps = await cluster(3, { maxClients: 100 }, 2000);
    const c = await client(ps[0]!);
    for (let i = 0; i < 3; i++) await c.create<Arena>('arena', {}, Arena);
    expect(ps.map((s) => s.matchmaker.localRooms.length)).toEqual([1, 1, 1]);
  });

  it('a seat reserved in one process is taken by a client connected to another', async () => {
    const [a, b] = await cluster(2);
    const onB = await (await client(b!)).create<Arena>('arena', { name: 'host' }, Arena);
    const owner = [a!, b!].find((s) => s.matchmaker.room(onB.roomId))!;
    const reservation = owner.matchmaker.reserveSeat(onB.roomId);
    const elsewhere = owner === a ? b! : a!;
    const guest = await client(elsewhere);
    const room = await guest.consumeSeatReservation<Arena>(reservation, { name: 'guest' }, Arena);
    expect(room.roomId).toBe(onB.roomId);
    await eventually('the guest in the state', () => room.state.players.size === 2, 5000);
    expect(guest.rooms).toContain(room);
  });

  it('joinById and a reconnection token reach the room from any process', async () => {
    const [a, b] = await cluster(2);
    const host = await client(a!);
    const made = await host.create<Arena>('arena', { name: 'host' }, Arena);
    const owner = [a!, b!].find((s) => s.matchmaker.room(made.roomId))!;
    const elsewhere = owner === a ? b! : a!;
    const byId = await (await client(elsewhere)).joinById<Arena>(made.roomId, { name: 'friend' }, Arena);
    expect(byId.roomId).toBe(made.roomId);
    // Its session ends (the room holds the seat, onDrop); the token brings it back through the other process.
    const token = byId.reconnectionToken;
    const friend = clients.pop()!;
    await friend.close();
    const comeback = await client(elsewhere);
    const again = await comeback.reconnect<Arena>(token, Arena);
    expect(again.roomId).toBe(made.roomId);
  });

  it('a process that closes leaves the listing and the cluster at once', async () => {
    const ps = await cluster(3, { maxRooms: 10 });
    const c = await client(ps[0]!);
    for (let i = 0; i < 3; i++) await c.create('arena');
    const watcher = await client(ps[0]!);
    await eventually('three rooms', async () => (await watcher.getAvailableRooms('arena')).length === 3, 5000);
    await clientsOff();
    await ps[2]!.close();
    servers.splice(servers.indexOf(ps[2]!), 1);
    const w2 = await client(ps[0]!);
    await eventually('two rooms', async () => (await w2.getAvailableRooms('arena')).length === 2, 5000);
    expect(
      ps[0]!.matchmaker
        .cluster!.processes()
        .map((p) => p.processId)
        .sort(),
    ).toEqual(['p0', 'p1']);
  });

  it('Redis restarted: no process fails, their listings are written again and matchmaking resumes', async () => {
    const ps = await cluster(2, { maxRooms: 10 });
    const c = await client(ps[0]!);
    await c.create('arena');
    await c.create('arena');
    await redis.restart(300);
    // The new Redis is empty; each process writes its listings and its heartbeat again.
    await eventually('the listings back in Redis', () => redis.cli('hlen', `${prefixOf(ps[0]!)}rooms`) === '2', 10_000);
    const w = await client(ps[1]!);
    await eventually('both listed in each process', async () => (await w.getAvailableRooms('arena')).length === 2, 5000);
    const r = await w.joinOrCreate<Arena>('arena', { name: 'after' }, Arena);
    expect(ps.some((s) => s.matchmaker.room(r.roomId))).toBe(true);
    // Each process is back in the others' tables by its first heartbeat after the restart.
    await eventually('both processes in each table', () => ps.every((s) => s.matchmaker.cluster!.processes().length === 2), 5000);
  });
});

async function clientsOff(): Promise<void> {
  for (const c of clients.splice(0)) await c.close();
}
