// Rooms over real sessions on loopback: join, full state, patches, views, messages, leave, matchmaking.
import { afterEach, describe, expect, it } from 'vitest';
import { schema, StateView, t, type SchemaType } from '@colyseus/schema';
import { connect, RoomError, type Client } from '@volley/client';
import { LeaveCode, Room, Server, type RoomClient } from '@volley/server';

const Player = schema({ x: t.number(), y: t.number(), name: t.string() }, 'Player');
type Player = SchemaType<typeof Player>;
const Battle = schema({ players: t.map(Player), round: t.uint8() }, 'BattleState');
type Battle = SchemaType<typeof Battle>;

class BattleRoom extends Room<Battle> {
  override maxClients = 3;
  override onCreate(): void {
    this.setState(new Battle());
    this.setPatchRate(20);
    this.onMessage('move', (client, to) => {
      const p = this.state.players.get(client.sessionId);
      const m = to as { x: number; y: number };
      if (p) {
        p.x = m.x;
        p.y = m.y;
      }
    });
    this.onMessage('shout', (client, text) => this.broadcast('shout', `${client.sessionId}: ${String(text)}`, { except: client }));
  }
  override onJoin(client: RoomClient, options: unknown): void {
    const p = new Player();
    p.name = (options as { name?: string } | undefined)?.name ?? 'anon';
    this.state.players.set(client.sessionId, p);
    if ((options as { welcome?: boolean } | undefined)?.welcome) client.send('welcome', { you: client.sessionId });
  }
  override onLeave(client: RoomClient): void {
    this.state.players.delete(client.sessionId);
  }
}

const servers: Server[] = [];
const clients: Client[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function start(kind: 'websocket' | 'udp'): Promise<{ server: Server; join: () => Promise<Client> }> {
  const server = new Server({ port: 0, udpPort: 0, transports: [kind] });
  server.define('battle', BattleRoom);
  await server.listen();
  servers.push(server);
  return {
    server,
    join: async () => {
      const c = await connect(server.address().url, { transports: [kind] });
      clients.push(c);
      return c;
    },
  };
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(['websocket', 'udp'] as const)('rooms over %s', (kind) => {
  it('joinOrCreate puts two clients in one room; each sees the other in the state, and moves', async () => {
    const { join } = await start(kind);
    const a = await join();
    const b = await join();
    const ra = await a.joinOrCreate('battle', { name: 'A', welcome: true }, Battle);
    expect(ra.state.players.size).toBe(1);
    const welcome = new Promise((resolve) => ra.onMessage('welcome', resolve));
    expect(await welcome).toEqual({ you: ra.sessionId });
    const rb = await b.joinOrCreate<Battle>('battle', { name: 'B' }); // no class: built from the server's Reflection
    expect(rb.roomId).toBe(ra.roomId);
    expect(rb.state.players.size).toBe(2);
    await until('A to see B', () => ra.state.players.size === 2);
    expect([...ra.state.players.values()].map((p) => p.name).sort()).toEqual(['A', 'B']);

    ra.send('move', { x: 5, y: 7 });
    await until('B to see A move', () => rb.state.players.get(ra.sessionId)?.x === 5);
    expect(rb.state.players.get(ra.sessionId)?.y).toBe(7);

    const heard = new Promise((resolve) => ra.onMessage('shout', resolve));
    rb.send('shout', 'hi');
    expect(await heard).toBe(`${rb.sessionId}: hi`);

    expect(await rb.leave()).toBe(LeaveCode.Consented);
    await until('A to see B leave', () => ra.state.players.size === 1);
  });

  it('callbacks fire for additions, changes and removals', async () => {
    const { join } = await start(kind);
    const a = await join();
    const b = await join();
    const ra = await a.joinOrCreate('battle', {}, Battle);
    const added: string[] = [];
    const removed: string[] = [];
    const xs: number[] = [];
    ra.callbacks.onAdd('players', (p: Player, id: string) => {
      added.push(id);
      ra.callbacks.listen(p, 'x', (x: number) => xs.push(x));
    });
    ra.callbacks.onRemove('players', (_p: Player, id: string) => removed.push(id));
    const rb = await b.joinOrCreate('battle', {}, Battle);
    await until('A to hear of B', () => added.includes(rb.sessionId));
    rb.send('move', { x: 9, y: 1 });
    await until('A to see x = 9', () => xs.includes(9));
    await rb.leave();
    await until('A to hear B left', () => removed.includes(rb.sessionId));
  });
});

describe('matchmaking', () => {
  it('maxClients fills a room, the next joinOrCreate gets a new one; join finds none when all are full', async () => {
    const { server, join } = await start('websocket');
    const rooms = [];
    for (let i = 0; i < 4; i++) rooms.push(await (await join()).joinOrCreate('battle'));
    expect(new Set(rooms.slice(0, 3).map((r) => r.roomId)).size).toBe(1);
    expect(rooms[3]!.roomId).not.toBe(rooms[0]!.roomId);
    expect(server.matchmaker.localRooms.length).toBe(2);
    const full = await (await join()).join('nope').catch((e: unknown) => e);
    expect(full).toBeInstanceOf(RoomError);
    expect((full as RoomError).code).toBe('unknown-room-type');
    const listed = await (await join()).getAvailableRooms('battle');
    expect(listed).toHaveLength(1);
    expect(listed[0]!.clients).toBe(1);
  });

  it('a room with nobody left is disposed; joinById of it then fails with room-not-found', async () => {
    const { server, join } = await start('websocket');
    const c = await join();
    const r = await c.create('battle');
    await r.leave();
    await until('the room to be disposed', () => server.matchmaker.localRooms.length === 0);
    const e = await c.joinById(r.roomId).catch((x: unknown) => x);
    expect((e as RoomError).code).toBe('room-not-found');
  });

  it('a session that ends leaves its rooms (onLeave), and the others see it go', async () => {
    const { join } = await start('websocket');
    const a = await join();
    const b = await join();
    const ra = await a.joinOrCreate('battle', {}, Battle);
    await b.joinOrCreate('battle', {}, Battle);
    await until('A to see B', () => ra.state.players.size === 2);
    await b.close();
    await until('A to see B gone', () => ra.state.players.size === 1);
  });
});

describe('views', () => {
  const Secret = schema({ owner: t.string(), code: t.number() }, 'Secret');
  const Vault = schema({ secrets: t.map(Secret).view(), open: t.number() }, 'Vault');
  type Vault = SchemaType<typeof Vault>;

  class VaultRoom extends Room<Vault> {
    override onCreate(): void {
      this.setState(new Vault());
      this.state.open = 0;
      this.setPatchRate(10);
      this.onMessage('code', (client, code) => {
        const s = this.state.secrets.get(client.sessionId);
        if (s) s.code = code as number;
      });
    }
    override onJoin(client: RoomClient): void {
      const s = new Secret();
      s.owner = client.sessionId;
      this.state.secrets.set(client.sessionId, s);
      client.view = new StateView();
      client.view.add(s);
      this.state.open++;
    }
  }

  it('each client sees only its own secret, and its changes', async () => {
    const server = new Server({ port: 0, udpPort: 0, transports: ['websocket'] });
    server.define('vault', VaultRoom);
    await server.listen();
    servers.push(server);
    const a = await connect(server.address().url, { transports: ['websocket'] });
    const b = await connect(server.address().url, { transports: ['websocket'] });
    clients.push(a, b);
    const ra = await a.joinOrCreate('vault', {}, Vault);
    const rb = await b.joinOrCreate('vault', {}, Vault);
    await until('A to see two open', () => ra.state.open === 2);
    expect([...ra.state.secrets.keys()]).toEqual([ra.sessionId]);
    expect([...rb.state.secrets.keys()]).toEqual([rb.sessionId]);
    rb.send('code', 42);
    await until('B to see its code', () => rb.state.secrets.get(rb.sessionId)?.code === 42);
    expect(ra.state.secrets.size).toBe(1);
    expect(ra.stats.desyncs + rb.stats.desyncs).toBe(0);
  });
});
