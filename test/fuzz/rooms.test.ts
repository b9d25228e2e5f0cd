// Structured fuzzing of the room hub (docs/rooms.md, "Limits and hostile clients"): an attacker on its own
// session sends random room frames — garbage, valid frames with hostile fields, frames for other sessions'
// rooms, join and resync floods — while a victim plays. Nothing throws out of the hub, the victim's state
// still converges, and only the attacker is refused.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encode } from '@msgpack/msgpack';
import { schema, t, type SchemaType } from '@colyseus/schema';
import { encodeRoomFrame, JOIN_METHODS } from '@volley/protocol';
import { Room, type RoomClient } from '@volley/server';
import { RoomTestbed } from '@volley/testing';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';

const P = schema({ x: t.number() }, 'FzP');
const S = schema({ players: t.map(P), n: t.number() }, 'FzS');
const Move = schema({ dx: t.int8(), name: t.string() }, 'FzMove');
type S = SchemaType<typeof S>;

class Arena extends Room<S> {
  override maxClients = 4;
  override onCreate(): void {
    this.setState(new S().assign({ n: 0 }));
    this.onInput(Move, (_client, input) => {
      if (typeof input.dx !== 'number' && input.dx !== undefined) throw new Error('an input that is no Move');
    });
    this.onMessage('x', (client, x) => {
      const p = this.state.players.get(client.sessionId);
      if (p && typeof x === 'number') p.x = x;
    });
  }
  override onJoin(client: RoomClient): void {
    this.state.players.set(client.sessionId, new P().assign({ x: 0 }));
  }
  override onLeave(client: RoomClient): void {
    this.state.players.delete(client.sessionId);
  }
}

const anyValue = fc.oneof(fc.constant(undefined), fc.jsonValue({ maxDepth: 3 }), fc.uint8Array({ maxLength: 32 }));
const roomNumber = fc.oneof(fc.constant(1), fc.constant(2), fc.integer({ min: 1, max: 0xffffffff }));

const hostileFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 48 }).map((b) => new Uint8Array([0x02 | (b[0] ?? 0 & 1), ...b])),
  fc
    .record({
      request: fc.nat(),
      method: fc.constantFrom(...JOIN_METHODS),
      target: fc.oneof(fc.constant('arena'), fc.constant('nope'), fc.string({ maxLength: 20 }), fc.constant('x:y')),
      reflection: fc.boolean(),
      options: anyValue.map((v) => (v === undefined ? new Uint8Array(0) : v instanceof Uint8Array ? v : encode(v))),
    })
    .map((f) => encodeRoomFrame({ op: 'join', ...f })),
  fc.record({ room: roomNumber, seq: fc.nat(), type: fc.constantFrom('x', 'y', '*'), value: anyValue }).map(({ room, seq, type, value }) =>
    encodeRoomFrame({
      op: 'send',
      room,
      seq,
      type,
      raw: value instanceof Uint8Array,
      body: value instanceof Uint8Array ? value : encode(value ?? null),
    }),
  ),
  roomNumber.map((room) => encodeRoomFrame({ op: 'leave', room })),
  roomNumber.map((room) => encodeRoomFrame({ op: 'resync', room })),
  fc
    .record({ room: roomNumber, body: fc.uint8Array({ maxLength: 64 }) })
    .map(({ room, body }) => encodeRoomFrame({ op: 'input', room, body })),
  fc.nat().map((request) => encodeRoomFrame({ op: 'list', request, name: '', criteria: new Uint8Array(0) })),
  // server ops sent by a client
  roomNumber.map((room) => encodeRoomFrame({ op: 'patch', room, patch: 1, body: new Uint8Array([0xff, 0, 0]) })),
);

describe('room hub under hostile frames', () => {
  it(
    'survives any frames from an attacker while a victim keeps playing',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(hostileFrame, fc.constantFrom(0, 1, 2, 3)), { minLength: 1, maxLength: 60 }),
          fc.integer({ min: 1, max: 1e6 }),
          async (frames, seed) => {
            const bed = new RoomTestbed({ seed, link: { latency: 5 } });
            bed.define('arena', Arena);
            const victim = await bed.connect();
            const vr = await victim.joinOrCreate('arena', {}, S);
            const attacker = await bed.connect();
            await attacker.joinOrCreate('arena', {}, S).catch(() => undefined);
            let i = 0;
            for (const [frame, channel] of frames) {
              attacker.session.client.send(channel, frame, bed.now);
              if (++i % 10 === 0) {
                vr.send('x', i);
                await bed.advance(20);
              }
            }
            vr.send('x', -1);
            await bed.settle(60_000, 200);
            const server = bed.room<Arena>(vr.roomId);
            expect(server.state.players.get(vr.sessionId)?.x).toBe(-1);
            // (The attacker's own x may be any number it sent: t.number() carries floats as float32, so compare keys.)
            expect([...vr.state.players.keys()].sort()).toEqual([...server.state.players.keys()].sort());
            expect(vr.state.players.get(vr.sessionId)?.x).toBe(-1);
            expect(vr.joined).toBe(true);
            // What the attacker caused is counted as its malformed frames; no room hook or handler failed.
            expect(bed.errors.filter((e) => e.what !== 'a malformed room frame' && !e.what.endsWith('unusable inputs'))).toEqual([]);
          },
        ),
        fuzzParams(0.1),
      );
    },
    FUZZ_TIMEOUT,
  );

  it('a join flood gets Limit past joinsPerSecond, and a resync flood costs one full state per patch tick', async () => {
    const bed = new RoomTestbed({ seed: 3 });
    bed.define('arena', Arena);
    const c = await bed.connect();
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => c.create('arena')));
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as { code: string }).code === 'limit').length;
    expect(limited).toBeGreaterThan(0);
    expect(bed.matchmaker.localRooms.length).toBeLessThanOrEqual(10);
    const room = c.rooms.all[0]!;
    const before = room.stats.fullStates;
    for (let k = 0; k < 500; k++) c.session.client.send(0, encodeRoomFrame({ op: 'resync', room: room.roomNumber }), bed.now);
    await bed.advance(120); // a few 50 ms patch ticks
    expect(room.stats.fullStates - before).toBeLessThanOrEqual(3);
  });
});
