// Inputs (docs/rooms.md, "Inputs"): room.input(Input).send() on the client, room.onInput on the server — every
// input at most once and in order, each packet carrying the last few so a lost one costs nothing.
import { describe, expect, it } from 'vitest';
import { schema, t } from '@colyseus/schema';
import { encodeRoomFrame } from '@volley/protocol';
import { Room, type RoomClient } from '@volley/server';
import { RoomTestbed } from '@volley/testing';

const Move = schema({ dx: t.int8(), dy: t.int8(), fire: t.boolean() }, 'InMove');
const Pos = schema({ x: t.number(), lastInput: t.number() }, 'InPos');
const World = schema({ players: t.map(Pos) }, 'InWorld');

class Game extends Room<InstanceType<typeof World>> {
  got: number[] = [];
  override onCreate(): void {
    this.setState(new World());
    this.onInput(Move, (client, input, seq) => {
      this.got.push(seq);
      const p = this.state.players.get(client.sessionId)!;
      p.x += input.dx;
      p.lastInput = seq; // echoed for the client's reconciliation
    });
  }
  override onJoin(client: RoomClient): void {
    this.state.players.set(client.sessionId, new Pos().assign({ x: 0, lastInput: 0 }));
  }
}

async function play(loss: number, seed: number) {
  const bed = new RoomTestbed({ seed, link: { loss, latency: 30, jitter: 10, duplicate: 0.05, reorder: 0.1 } });
  bed.define('game', Game);
  const room = await (await bed.connect()).joinOrCreate('game', {}, World);
  const input = room.input(Move, { historySize: 4 });
  for (let i = 0; i < 120; i++) {
    input.value.dx = 1;
    input.value.fire = i % 10 === 0;
    input.send();
    await bed.advance(1000 / 60);
  }
  await bed.settle();
  return { bed, room, server: bed.room<Game>(room.roomId), sent: input.seq };
}

describe('inputs', () => {
  it('on a clean link every input arrives once, in order, and the state echoes the last', async () => {
    const { room, server, sent } = await play(0, 1);
    expect(sent).toBe(120);
    expect(server.got).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(room.state.players.get(room.sessionId)?.toJSON()).toEqual({ x: 120, lastInput: 120 });
  });

  it('at 20 % loss with duplication and reordering: never twice, never out of order, nearly all arrive', async () => {
    const { server, sent } = await play(0.2, 7);
    for (let i = 1; i < server.got.length; i++) expect(server.got[i]!).toBeGreaterThan(server.got[i - 1]!);
    // The newest input rides only in the last packet, the one before in the last two, and so on: unless the
    // last four packets are all lost, one of the last four inputs arrives (seed 7 loses the last packet).
    expect(server.got.at(-1)).toBeGreaterThan(sent - 4);
    // A gap needs historySize (4) losses in a row: 0.2^4 = 0.16 % per input.
    expect(server.got.length).toBeGreaterThanOrEqual(116);
  });

  it('unusable input bytes are reported and change nothing', async () => {
    const bed = new RoomTestbed({ seed: 2 });
    bed.define('game', Game);
    const c = await bed.connect();
    const room = await c.joinOrCreate('game', {}, World);
    for (const body of [new Uint8Array([0xff, 0xff, 0xff]), new Uint8Array(2000), new Uint8Array([1, 200, 1, 2])]) {
      c.session.client.send(2, encodeRoomFrame({ op: 'input', room: room.roomNumber, body }), bed.now);
    }
    await bed.settle();
    expect(bed.room<Game>(room.roomId).got.every((s) => Number.isSafeInteger(s))).toBe(true);
    expect(room.joined).toBe(true);
  });
});
