// Scale-out with real processes (docs/scaling.md): a redis-server and three `volley serve --redis` processes
// on loopback, each with its own HTTP and UDP ports, and 300 bots (real UDP clients) that connect to them in
// turn, as a load balancer would, and joinOrCreate rooms of 10. Then the failures: one process SIGKILLed
// (its bots are told, the others notice nothing, the listing forgets it within the expiry) and Redis
// restarted under the other two (nothing crashes, matchmaking resumes). cluster.test.ts covers the same
// matchmaking with three Servers in one process.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema, t, type SchemaType } from '@colyseus/schema';
import { connect, type Client, type Room } from '@volley/client';
import { formatLoadtest, runLoadtest } from 'volley';
import { Child } from '../support/child.js';
import { haveRedis, RedisProcess } from '../support/redis.js';
import { eventually } from '../support/wait.js';

const SERVE = fileURLToPath(new URL('./serve-child.mjs', import.meta.url));
const ROOMS = fileURLToPath(new URL('./arena-rooms.mjs', import.meta.url));
const BOTS = 300;
const BATCH = 25;
/** The processes' heartbeat expiry (the Redis cluster's default): a dead process is swept after it. */
const EXPIRY_MS = 3000;
/** The bots' protocol timeout: how long a bot of a killed process waits before it is told. */
const BOT_TIMEOUT_MS = 4000;
const TOKEN = 'scale-out-load-token';

const Arena = schema({ process: t.string(), players: t.number(), moves: t.number() }, 'ProcessArena');
type Arena = SchemaType<typeof Arena>;

interface Bot {
  /** The process it connected to (round robin). */
  via: number;
  client: Client;
  room: Room<Arena>;
  changes: number;
  left?: { code: number; text: string };
}

let redis: RedisProcess | undefined;
const procs: Child[] = [];
const urls: string[] = [];
const ids = ['alpha', 'bravo', 'charlie'];
const bots: Bot[] = [];
const extra: Client[] = [];
/** Each process's players after the first test. */
const firstPlayers: number[] = [];

function serve(i: number): Child {
  const args = ['--host', '127.0.0.1', '--port', '0', '--udp-port', '0', '--transports', 'udp,websocket'];
  args.push('--redis', redis!.url, '--rooms', ROOMS, '--process-id', ids[i]!, '--max-clients', '1000', '--per-source', '1000');
  args.push('--load-token', TOKEN);
  return new Child(`serve ${ids[i]}`, SERVE, { args }, 280_000);
}

/** The URL a `volley serve` child printed ("volley serve: echo server on URL"). */
async function urlOf(p: Child): Promise<string> {
  for (let i = 0; i < 150; i++) {
    const line = p.lines.find((l) => typeof l.text === 'string' && l.text.startsWith('  cluster: process'));
    const head = p.lines.find((l) => typeof l.text === 'string' && l.text.startsWith('volley serve: echo server on '));
    if (line && head) return (head.text as string).slice('volley serve: echo server on '.length);
    if (p.exited) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${p.label} did not start: ${JSON.stringify(p.lines)} ${p.stderr}`);
}

async function join(via: number): Promise<Bot> {
  const client = await connect(urls[via]!, { transports: ['udp'], protocol: { timeout: BOT_TIMEOUT_MS } });
  try {
    const room = await client.joinOrCreate<Arena>('arena', {}, Arena);
    const bot: Bot = { via, client, room, changes: 0 };
    room.onStateChange(() => void bot.changes++);
    room.onLeave((code, text) => (bot.left = { code, text }));
    return bot;
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** What a client of each live process sees listed: the room ids, one set per process. */
async function listings(): Promise<Set<string>[]> {
  const out: Set<string>[] = [];
  for (let i = 0; i < procs.length; i++) {
    if (procs[i]!.exited) continue;
    const c = await connect(urls[i]!, { transports: ['websocket'] });
    try {
      out.push(new Set((await c.getAvailableRooms('arena')).map((r) => r.roomId)));
    } finally {
      await c.close();
    }
  }
  return out;
}

const processOf = (b: Bot) => b.room.state.process;

/** The rooms Redis lists, as processId → rooms (every room, locked or not: docs/scaling.md). */
function listedRooms(): Map<string, number> {
  const out = new Map<string, number>();
  for (const id of ids) {
    const n = Number(redis!.cli('SCARD', `volley:rooms-of:${id}`));
    if (n > 0) out.set(id, n);
  }
  const total = Number(redis!.cli('HLEN', 'volley:rooms'));
  if (total !== [...out.values()].reduce((a, b) => a + b, 0)) out.set('(hash)', total);
  return out;
}

// Skipped only outside CI on a machine without redis-server (.ci/run installs it).
describe.skipIf(!haveRedis && !process.env.CI)('three server processes on one Redis', { timeout: 120_000 }, () => {
  beforeAll(async () => {
    redis = await RedisProcess.start();
    for (let i = 0; i < 3; i++) procs.push(serve(i));
    for (const p of procs) urls.push(await urlOf(p));
    // Each has heard the others' heartbeats: the last one to start said "3 process(es)", the first one
    // knows within a heartbeat.
    await new Promise((r) => setTimeout(r, 1500));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...bots.map((b) => b.client.close()), ...extra.map((c) => c.close())]);
    await Promise.all(procs.map((p) => p.dispose()));
    await redis?.stop();
  });

  it(`${BOTS} bots join rooms across them, each in the process that runs its room, placed by load`, async () => {
    const failures: string[] = [];
    for (let i = 0; i < BOTS; i += BATCH) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(BATCH, BOTS - i) }, (_, k) => join((i + k) % 3)));
      for (const r of batch) {
        if (r.status === 'fulfilled') bots.push(r.value);
        else failures.push(String((r.reason as Error)?.message ?? r.reason));
      }
    }
    expect(failures).toEqual([]);
    expect(bots).toHaveLength(BOTS);
    await eventually('every bot’s first state', () => bots.every((b) => b.room.state.process !== undefined), 10_000);

    // Rooms of 10, filled: 30 rooms for 300 bots, wherever they run.
    const rooms = new Map<string, Bot[]>();
    for (const b of bots) rooms.set(b.room.roomId, [...(rooms.get(b.room.roomId) ?? []), b]);
    expect(rooms.size).toBe(BOTS / 10);
    for (const members of rooms.values()) {
      expect(members).toHaveLength(10);
      expect(new Set(members.map(processOf)).size).toBe(1);
    }
    // Every process runs some of them (placement by load); a bot whose room runs elsewhere than the process
    // it connected to was redirected there (its state comes from that process).
    const perProcess = ids.map((id) => bots.filter((b) => processOf(b) === id).length);
    firstPlayers.push(...perProcess);
    console.log(`processes: ${BOTS} bots in ${rooms.size} rooms; bots per process ${perProcess.join(' / ')}`);
    for (const n of perProcess) expect(n).toBeGreaterThanOrEqual(60);
    const redirected = bots.filter((b) => processOf(b) !== ids[b.via]);
    expect(redirected.length).toBeGreaterThan(0);
    for (const b of bots) expect(b.room.serverUrl).toBe(urls[ids.indexOf(processOf(b))]);
    // The state flows: moves sent by a bot of each room reach all ten.
    for (const members of rooms.values()) members[0]!.room.send('move');
    await eventually('the moves in every room', () => bots.every((b) => b.room.state.moves >= 1), 10_000);

    // Redis lists all 30 rooms, under the process that runs each (full rooms are locked, so no client sees
    // them in getAvailableRooms; the tests below free seats for that).
    expect(listedRooms()).toEqual(new Map(ids.map((id, i) => [id, perProcess[i]! / 10])));
  });

  it('volley loadtest across the three reports each process', async () => {
    const lines: string[] = [];
    const r = await runLoadtest(
      { urls, bots: 30, room: 'arena', seconds: 1.5, transport: 'udp', script: 'move', token: TOKEN, workers: 2 },
      (l) => void lines.push(l),
    );
    const text = formatLoadtest(r);
    console.log(text);
    expect(r).toMatchObject({ bots: 30, joined: 30, failures: {}, workers: 2 });
    // Each process reports its own figures, under its id; the bots' rooms (three new ones: the others are
    // full) are spread over them.
    expect(r.processes.map((p) => [p.url, p.processId])).toEqual(urls.map((u, i) => [u, ids[i]]));
    expect(r.processes.reduce((n, p) => n + p.bots, 0)).toBe(30);
    r.processes.forEach((p, i) => expect(p.server!.players).toBe(firstPlayers[i]! + p.bots)); // the 300 bots' seats, and these
    for (const p of r.processes) {
      expect(p.server!.cpuMicrosPerPlayerSecond).toBeGreaterThan(0);
      expect(p.server!.bytesInPerPlayerSecond).toBeGreaterThan(0);
      expect(text).toContain(`${p.url} (${p.processId})`.slice(0, 27));
    }
    // The script's moves reach the rooms, and their state comes back to the bots.
    expect(r.processes.filter((p) => p.bots > 0).every((p) => p.stateChangesPerBotSecond > 0)).toBe(true);
    expect(lines.some((l) => l.startsWith('measuring '))).toBe(true);
  });

  it('a seat reserved through one process is taken in another: the client hops to the room’s process', async () => {
    const target = bots.find((b) => processOf(b) === 'charlie')!.room.roomId;
    // A full room is locked; leave one seat free in it.
    const member = bots.find((b) => b.room.roomId === target)!;
    bots.splice(bots.indexOf(member), 1);
    await member.client.close();
    const guest = await connect(urls[0]!, { transports: ['udp'], protocol: { timeout: BOT_TIMEOUT_MS } });
    extra.push(guest);
    const room = await guest.joinById<Arena>(target, {}, Arena);
    await eventually('the guest’s state', () => room.state.process === 'charlie' && room.state.players === 10, 5000);
    expect(guest.rooms).toContain(room);
    expect(room.serverUrl).toBe(urls[2]);
  });

  it('a process killed: its bots are told SessionLost, the others notice nothing, the listing forgets it', async () => {
    const victim = 1; // bravo
    // One seat free in one of its rooms, so that clients of every process see it listed.
    const leaver = bots.find((b) => processOf(b) === 'bravo')!;
    bots.splice(bots.indexOf(leaver), 1);
    await leaver.client.close();
    const open = leaver.room.roomId;
    await eventually('bravo’s room listed everywhere', async () => (await listings()).every((ids) => ids.has(open)), 5000);
    const doomed = bots.filter((b) => processOf(b) === ids[victim]);
    const spared = bots.filter((b) => processOf(b) !== ids[victim] && b.left === undefined);
    const changes = spared.map((b) => b.changes);
    procs[victim]!.kill();
    await procs[victim]!.waitExit();
    // Joins right away, while the others still list it: a seat or a new room there is refused as gone, and
    // the join goes on elsewhere.
    const early = await Promise.all(Array.from({ length: 10 }, (_, i) => join(i % 2 === 0 ? 0 : 2)));
    bots.push(...early);
    await eventually('their state', () => early.every((b) => b.room.state.process !== undefined), 5000);
    for (const b of early) expect(['alpha', 'charlie']).toContain(processOf(b));

    // Its bots are told, each once, within their timeout (the UDP path just goes quiet).
    await eventually('every bot of the killed process told', () => doomed.every((b) => b.left !== undefined), BOT_TIMEOUT_MS + 5000);
    const reasons = new Set(doomed.map((b) => `${b.left!.code} ${b.left!.text}`));
    console.log(`processes: ${doomed.length} bots of the killed process left with ${[...reasons].join(', ')}`);
    for (const b of doomed) expect(b.left!.text).toMatch(/Timeout/);
    // The others are untouched: still in their rooms, still receiving state.
    for (const b of spared) expect(b.left).toBeUndefined();
    for (const members of new Set(spared.map((b) => b.room))) members.send('move');
    await eventually('state still flowing elsewhere', () => spared.every((b, i) => b.changes > changes[i]!), 10_000);

    // The others forget it within the expiry (plus a heartbeat's sweep), in Redis and in their listings.
    await eventually('the dead process swept', () => !redis!.cli('SMEMBERS', 'volley:processes').includes('bravo'), EXPIRY_MS + 3000);
    await eventually('listings without it', async () => (await listings()).every((ids) => !ids.has(open)), 3000);
    expect(listedRooms().get('bravo')).toBeUndefined();

    // And new players find rooms on the survivors.
    const late = await Promise.all(Array.from({ length: 20 }, (_, i) => join(i % 2 === 0 ? 0 : 2)));
    bots.push(...late);
    await eventually('their state', () => late.every((b) => b.room.state.process !== undefined), 5000);
    for (const b of late) expect(['alpha', 'charlie']).toContain(processOf(b));
  });

  it('Redis restarted under the survivors: no process crashes, rooms run on, matchmaking resumes', async () => {
    const alive = bots.filter((b) => b.left === undefined);
    const changes = alive.map((b) => b.changes);
    await redis!.restart(1000);
    // The rooms never depended on Redis: state keeps flowing while it is away and after.
    for (const r of new Set(alive.map((b) => b.room))) r.send('move');
    await eventually('state flowing across the restart', () => alive.every((b, i) => b.changes > changes[i]!), 10_000);
    expect(procs[0]!.exited).toBe(false);
    expect(procs[2]!.exited).toBe(false);

    // Both processes write themselves and their rooms back into the empty Redis, and joins work again.
    await eventually(
      'both processes back in Redis',
      () => ['alpha', 'charlie'].every((id) => redis!.cli('SMEMBERS', 'volley:processes').includes(id)),
      5000,
    );
    const joined = await Promise.all(Array.from({ length: 20 }, (_, i) => join(i % 2 === 0 ? 0 : 2)));
    bots.push(...joined);
    await eventually('their state', () => joined.every((b) => b.room.state.process !== undefined), 5000);
    const live = bots.filter((b) => b.left === undefined);
    const expected = new Map<string, number>();
    for (const id of ['alpha', 'charlie'])
      expected.set(id, new Set(live.filter((b) => processOf(b) === id).map((b) => b.room.roomId)).size);
    await eventually(
      'every room back in Redis',
      () => JSON.stringify([...listedRooms()].sort()) === JSON.stringify([...expected].sort()),
      5000,
    );
    expect(procs[0]!.lines.filter((l) => l.event === 'exit')).toEqual([]);
    expect(procs[2]!.lines.filter((l) => l.event === 'exit')).toEqual([]);
  });

  it('a process drained (SIGTERM): no new rooms there, its rooms play on to their end, then it leaves', async () => {
    const drained = 0; // alpha
    const mine = bots.filter((b) => b.left === undefined && processOf(b) === 'alpha');
    expect(mine.length).toBeGreaterThan(0);
    const changes = mine.map((b) => b.changes);
    procs[drained]!.signal('SIGTERM');
    await eventually('alpha draining', () => procs[drained]!.lines.some((l) => /draining \d+ room/.test(String(l.text))), 5000);
    // Its rooms run on with their players…
    for (const r of new Set(mine.map((b) => b.room))) r.send('move');
    await eventually('state flowing in the drained rooms', () => mine.every((b, i) => b.changes > changes[i]!), 10_000);
    // …while new players, even those who come in through it, get rooms elsewhere.
    await new Promise((r) => setTimeout(r, 1500)); // the others hear it is draining at its next heartbeat
    const newcomers = await Promise.all(Array.from({ length: 10 }, () => join(drained)));
    bots.push(...newcomers);
    await eventually('their state', () => newcomers.every((b) => b.room.state.process !== undefined), 5000);
    for (const b of newcomers) expect(processOf(b)).toBe('charlie');
    expect(procs[drained]!.exited).toBe(false);
    // When its last players leave, its rooms end and it stops by itself, leaving the listing at once.
    for (const b of mine) {
      bots.splice(bots.indexOf(b), 1);
      await b.client.close();
    }
    await procs[drained]!.waitExit(10_000);
    await eventually('its exit line', () => procs[drained]!.lines.some((l) => l.event === 'exit'), 2000);
    expect(procs[drained]!.lines.filter((l) => l.event === 'exit')).toEqual([{ event: 'exit', code: 0 }]);
    expect(redis!.cli('SMEMBERS', 'volley:processes').split('\n')).toEqual(['charlie']);
    expect(listedRooms().get('alpha')).toBeUndefined();
    // The newcomers came in through it, but their rooms are charlie's: they play on.
    for (const r of new Set(newcomers.map((b) => b.room))) r.send('move');
    const moves = newcomers.map((b) => b.room.state.moves);
    await eventually('the newcomers’ rooms still running', () => newcomers.every((b, i) => b.room.state.moves > moves[i]!), 5000);
    for (const b of newcomers) expect(b.left).toBeUndefined();
  });
});
