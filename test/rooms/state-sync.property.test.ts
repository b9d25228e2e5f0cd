// The state-sync guarantee (docs/rooms.md, "State sync"): after any sequence of mutations — adds, removes and
// moves in maps and arrays, nested schemas replaced, views changing, clients joining late — over links with up
// to 30 % loss, duplication and reordering, every client's state equals what its view lets it see of the
// server's, once the links are quiet. The oracle is independent of the encoder: the server's state as JSON,
// its `.view()` map filtered by `client.view.has(entity)`.
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { schema, StateView, t, type SchemaType } from '@colyseus/schema';
import { Room, type RoomClient } from '@volley/server';
import { RoomTestbed } from '@volley/testing';
import { FUZZ_TIMEOUT, fuzzParams } from '../fuzz/budget.js';

const Item = schema({ n: t.number(), tag: t.string() }, 'PtItem');
const Entity = schema({ x: t.number(), y: t.number(), hp: t.uint8(), items: t.array(Item), inner: Item }, 'PtEntity');
const World = schema({ entities: t.map(Entity), list: t.array(Item), hidden: t.map(Entity).view(), tick: t.number() }, 'PtWorld');
type World = SchemaType<typeof World>;
type Entity = SchemaType<typeof Entity>;

class WorldRoom extends Room<World> {
  override onCreate(): void {
    this.setState(new World().assign({ tick: 0 }));
    this.setPatchRate(50);
    this.setDigestInterval(100);
  }
  override onJoin(client: RoomClient): void {
    client.view = new StateView();
  }
}

const KEYS = ['a', 'b', 'c', 'd', 'e'];
const key = fc.constantFrom(...KEYS);
const small = fc.integer({ min: -1000, max: 1000 });
// t.number() carries a fraction as a float32 when that loses less than 1e-4 (and as a float64 otherwise).
const coordinate = fc.oneof(small, fc.double({ min: -1000, max: 1000, noNaN: true }));

type Op =
  | { op: 'add'; key: string; x: number; hidden: boolean }
  | { op: 'remove'; key: string; hidden: boolean }
  | { op: 'move'; key: string; x: number; y: number; hidden: boolean }
  | { op: 'hp'; key: string; hp: number }
  | { op: 'push-item'; key: string; n: number }
  | { op: 'splice-item'; key: string; at: number }
  | { op: 'inner'; key: string; n: number; replace: boolean }
  | { op: 'list-push'; n: number; tag: string }
  | { op: 'list-shift' }
  | { op: 'list-set'; at: number; n: number }
  | { op: 'tick' }
  | { op: 'view-add'; client: number; key: string }
  | { op: 'view-remove'; client: number; key: string }
  | { op: 'join' }
  | { op: 'wait'; ms: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('add' as const), key, x: small, hidden: fc.boolean() }),
  fc.record({ op: fc.constant('remove' as const), key, hidden: fc.boolean() }),
  fc.record({ op: fc.constant('move' as const), key, x: coordinate, y: coordinate, hidden: fc.boolean() }),
  fc.record({ op: fc.constant('hp' as const), key, hp: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('push-item' as const), key, n: small }),
  fc.record({ op: fc.constant('splice-item' as const), key, at: fc.nat(4) }),
  fc.record({ op: fc.constant('inner' as const), key, n: small, replace: fc.boolean() }),
  fc.record({ op: fc.constant('list-push' as const), n: small, tag: fc.constantFrom('', 'x', 'héllo') }),
  fc.record({ op: fc.constant('list-shift' as const) }),
  fc.record({ op: fc.constant('list-set' as const), at: fc.nat(5), n: small }),
  fc.record({ op: fc.constant('tick' as const) }),
  fc.record({ op: fc.constant('view-add' as const), client: fc.nat(3), key }),
  fc.record({ op: fc.constant('view-remove' as const), client: fc.nat(3), key }),
  fc.record({ op: fc.constant('join' as const) }),
  fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 1, max: 120 }) }),
);

const scenario = fc.record({
  seed: fc.integer({ min: 1, max: 0x7fffffff }),
  loss: fc.double({ min: 0, max: 0.3, noNaN: true }),
  duplicate: fc.double({ min: 0, max: 0.3, noNaN: true }),
  reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
  latency: fc.integer({ min: 0, max: 80 }),
  jitter: fc.integer({ min: 0, max: 40 }),
  clients: fc.integer({ min: 1, max: 3 }),
  ops: fc.array(fc.tuple(op, fc.integer({ min: 0, max: 60 })), { minLength: 1, maxLength: 60 }),
});

function entity(x: number): Entity {
  return new Entity().assign({ x, y: 0, hp: 100, inner: new Item().assign({ n: 0, tag: 'in' }) });
}

function apply(state: World, clients: readonly RoomClient[], o: Op): void {
  const map = 'hidden' in o && o.hidden ? state.hidden : state.entities;
  switch (o.op) {
    case 'add':
      if (!map.has(o.key)) map.set(o.key, entity(o.x));
      return;
    case 'remove':
      map.delete(o.key);
      return;
    case 'move': {
      const e = map.get(o.key);
      if (e) Object.assign(e, { x: o.x, y: o.y });
      return;
    }
    case 'hp': {
      const e = state.entities.get(o.key) ?? state.hidden.get(o.key);
      if (e) e.hp = o.hp;
      return;
    }
    case 'push-item':
      state.entities.get(o.key)?.items.push(new Item().assign({ n: o.n, tag: 'i' }));
      return;
    case 'splice-item': {
      const items = state.entities.get(o.key)?.items;
      if (items && o.at < items.length) items.splice(o.at, 1);
      return;
    }
    case 'inner': {
      const e = state.entities.get(o.key) ?? state.hidden.get(o.key);
      if (!e) return;
      if (o.replace) e.inner = new Item().assign({ n: o.n, tag: 'new' });
      else e.inner.n = o.n;
      return;
    }
    case 'list-push':
      state.list.push(new Item().assign({ n: o.n, tag: o.tag }));
      return;
    case 'list-shift':
      state.list.shift();
      return;
    case 'list-set':
      if (o.at < state.list.length) state.list[o.at] = new Item().assign({ n: o.n, tag: 'set' });
      return;
    case 'tick':
      state.tick++;
      return;
    case 'view-add':
    case 'view-remove': {
      const c = clients[o.client % Math.max(1, clients.length)];
      const e = state.hidden.get(o.key);
      if (!c?.view || !e) return;
      if (o.op === 'view-add') c.view.add(e);
      else if (c.view.has(e)) c.view.remove(e);
      return;
    }
    default:
      return;
  }
}

/** Deep equality, numbers within t.number()'s precision (1e-4); the first difference's path, or undefined. */
function difference(a: unknown, b: unknown, path = '$'): string | undefined {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-4 ? undefined : `${path}: ${a} ≠ ${b}`;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null)
    return Object.is(a, b) ? undefined : `${path}: ${String(a)} ≠ ${String(b)}`;
  if (Array.isArray(a) !== Array.isArray(b)) return `${path}: array ≠ object`;
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  if (ka.join() !== kb.join()) return `${path}: keys ${ka.join()} ≠ ${kb.join()}`;
  for (const k of ka) {
    const d = difference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/** What `client` should see: the server's state, with the `.view()` map cut to the entities in its view. */
function expected(state: World, client: RoomClient): unknown {
  const json = state.toJSON() as Record<string, unknown>;
  const hidden: Record<string, unknown> = {};
  for (const [k, e] of state.hidden) if (client.view?.has(e)) hidden[k] = e.toJSON();
  return { ...json, hidden };
}

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

async function check(s: Scenario): Promise<void> {
  const bed = new RoomTestbed({
    seed: s.seed,
    link: { loss: s.loss, duplicate: s.duplicate, reorder: s.reorder, latency: s.latency, jitter: s.jitter },
  });
  bed.define('world', WorldRoom);
  const first = await bed.connect();
  const rooms = [await first.create('world', {}, World)];
  const roomId = rooms[0]!.roomId;
  for (let i = 1; i < s.clients; i++) rooms.push(await (await bed.connect()).joinById(roomId, {}, World));
  const server = bed.room<WorldRoom>(roomId);
  for (const [o, gap] of s.ops) {
    if (o.op === 'wait') await bed.advance(o.ms);
    else if (o.op === 'join') {
      if (rooms.length < 5) rooms.push(await (await bed.connect()).joinById(roomId, {}, World));
    } else apply(server.state, server.clients, o);
    if (gap > 0) await bed.advance(gap); // patches (every 50 ms) go out between mutations, over the lossy link
  }
  await bed.settle(120_000, 400); // calm past a digest (every 100 ms) and the resync it may start
  for (const room of rooms) {
    const seat = server.clients.find((c) => c.sessionId === room.sessionId)!;
    expect(difference(room.state.toJSON(), expected(server.state, seat)), `client ${room.sessionId} (link seed ${s.seed})`).toBeUndefined();
  }
  expect(bed.errors, `room errors (link seed ${s.seed})`).toEqual([]);
  tally.runs++;
  tally.desyncs += rooms.reduce((n, r) => n + r.stats.desyncs, 0);
}

// How often a client's copy drifted and was put right by a resync (reported, not asserted: @colyseus/schema
// 5.0.34 drifts on some array edits, e.g. `list[0] = x; list.shift()` in one patch, which only the digest sees).
const tally = { runs: 0, desyncs: 0 };
afterAll(() => console.info(`state sync: ${tally.runs} scenarios, ${tally.desyncs} desyncs caught and resynced`));

describe('state sync: every client converges to its view of the server state', () => {
  it(
    'under any mutations, late joins, view changes and ≤ 30 % loss, duplication and reordering',
    async () => {
      await fc.assert(fc.asyncProperty(scenario, check), fuzzParams(0.1));
    },
    FUZZ_TIMEOUT,
  );

  it('a patch the decoder applies without complaint but wrongly is caught by the digest and resynced', async () => {
    // @colyseus/schema 5.0.34: replacing list[0] and then shifting, in one patch, leaves the client with the
    // old item and no decode error. The digest after the patch differs; the client resyncs.
    const bed = new RoomTestbed({ seed: 2 });
    bed.define('world', WorldRoom);
    const room = await (await bed.connect()).create('world', {}, World);
    const server = bed.room<WorldRoom>(room.roomId);
    server.state.list.push(new Item().assign({ n: 1, tag: 'a' }));
    await bed.advance(60);
    server.state.list[0] = new Item().assign({ n: 2, tag: 'b' });
    server.state.list.shift();
    await bed.settle(10_000, 400);
    expect(room.state.toJSON()).toEqual(expected(server.state, server.clients[0]!));
    expect(room.stats.fullStates).toBeGreaterThanOrEqual(1);
  });

  it('a late joiner with a view gets every ref before its use (no desync, nothing missing)', async () => {
    const bed = new RoomTestbed({ seed: 9, link: { loss: 0.25, latency: 30, jitter: 30, reorder: 0.2 } });
    bed.define('world', WorldRoom);
    const early = await (await bed.connect()).create('world', {}, World);
    const server = bed.room<WorldRoom>(early.roomId);
    for (const k of KEYS) {
      server.state.hidden.set(k, entity(1));
      server.state.entities.set(k, entity(2));
      server.state.entities.get(k)!.items.push(new Item().assign({ n: 1, tag: 'x' }));
    }
    await bed.advance(500);
    const lateClient = await bed.connect();
    const joining = lateClient.joinById(early.roomId, {}, World);
    // Its view is set in the same turn as the join completes on the server: entities it has never seen.
    await bed.until(() => server.clients.length === 2, 10_000, 'the late join on the server');
    const seat = server.clients[1]!;
    for (const k of ['a', 'c', 'e']) seat.view!.add(server.state.hidden.get(k)!);
    server.state.hidden.get('a')!.inner = new Item().assign({ n: 7, tag: 'fresh' });
    const late = await joining;
    await bed.settle();
    expect(late.state.toJSON()).toEqual(expected(server.state, seat));
    expect(Object.keys(late.state.toJSON().hidden as object).sort()).toEqual(['a', 'c', 'e']);
    expect(late.stats.desyncs).toBe(0);
  });
});
