// A room sending to a client whose session can take no more (docs/rooms.md): a reliable send is refused with
// SendError 'backpressure' and loses nothing already accepted, an unreliable one is dropped, a broadcast
// reports the client it could not reach, and state the session could not take arrives as a full state later.
import { describe, expect, it } from 'vitest';
import { schema, t } from '@colyseus/schema';
import { SendError } from '@volley/protocol';
import { Room } from '@volley/server';
import { RoomTestbed } from '@volley/testing';

const World = schema({ n: t.number(), text: t.string() }, 'BpWorld');

class Busy extends Room<InstanceType<typeof World>> {
  override onCreate(): void {
    this.setState(new World().assign({ n: 0, text: '' }));
  }
}

const small = { maxQueuedBytes: 4096, maxMessageSize: 4096 };

async function setup() {
  const bed = new RoomTestbed({
    seed: 3,
    link: { latency: 20 },
    channels: [
      { kind: 'reliable-ordered', ...small },
      { kind: 'reliable-unordered', ...small },
      { kind: 'unreliable-sequenced' },
      { kind: 'unreliable', ...small },
    ],
    // The outages below are far shorter than the timeout: the sessions live through them.
    protocol: { timeout: 60_000 },
  });
  bed.define('busy', Busy);
  const c = await bed.connect();
  const room = await c.joinOrCreate('busy', {}, World);
  const got: Record<string, number[]> = { r: [], u: [], b: [] };
  for (const type of Object.keys(got)) room.onMessage(type, (m) => got[type]!.push((m as { i: number }).i));
  const server = bed.room<Busy>(room.roomId);
  return { bed, c, room, got, server, client: server.clients[0]! };
}

const filler = 'x'.repeat(500);

describe('a room sending to a client that cannot take more', () => {
  it('refuses a reliable send with SendError backpressure and delivers every message it accepted, once', async () => {
    const { bed, c, got, client } = await setup();
    c.outage(2000);
    let accepted = 0;
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) {
      try {
        client.send('r', { i, filler }, { channel: 'reliable-unordered' });
        accepted++;
      } catch (e) {
        refused = e;
      }
    }
    expect(refused).toBeInstanceOf(SendError);
    expect((refused as SendError).code).toBe('backpressure');
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThan(100);
    await bed.advance(2500);
    await bed.settle();
    expect([...got.r!].sort((a, b) => a - b)).toEqual(Array.from({ length: accepted }, (_, i) => i));
    // The session came through, and takes messages again.
    client.send('r', { i: 1000, filler }, { channel: 'reliable-unordered' });
    await bed.settle();
    expect(got.r).toContain(1000);
    expect(c.ended).toBeUndefined();
    expect(bed.errors).toEqual([]);
  });

  it('drops unreliable messages it cannot hold, without throwing; what arrives is in the order sent', async () => {
    const { bed, c, got, client } = await setup();
    c.outage(2000);
    for (let i = 0; i < 100; i++) client.send('u', { i, filler }, { channel: 'unreliable' });
    await bed.advance(2500);
    await bed.settle();
    expect(got.u!.length).toBeLessThan(100);
    for (let k = 1; k < got.u!.length; k++) expect(got.u![k]!).toBeGreaterThan(got.u![k - 1]!);
    client.send('u', { i: 1000 }, { channel: 'unreliable' });
    await bed.settle();
    expect(got.u!.at(-1)).toBe(1000);
    expect(bed.errors).toEqual([]);
  });

  it('a broadcast reports the client it could not reach and still reaches the others', async () => {
    const { bed, c, got, server } = await setup();
    const other = await bed.connect();
    const otherRoom = await other.joinById(server.roomId, {}, World);
    const otherGot: number[] = [];
    otherRoom.onMessage('b', (m) => otherGot.push((m as { i: number }).i));
    c.outage(2000);
    // One every 100 ms: the other client's session acknowledges each in time, the one in the outage fills up.
    for (let i = 0; i < 20; i++) {
      server.broadcast('b', { i, filler }, { channel: 'reliable-unordered' });
      await bed.advance(100);
    }
    expect(bed.errors.length).toBeGreaterThan(0);
    for (const e of bed.errors) {
      expect(e.what).toBe("room 'busy': broadcast 'b'");
      expect(e.error).toBeInstanceOf(SendError);
    }
    await bed.advance(500);
    await bed.settle();
    // The other client got all 20; the one behind the outage got, once each, the broadcasts its session took.
    expect(otherGot.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const mine = [...got.b!].sort((a, b) => a - b);
    expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => i));
    expect(mine.length).toBeLessThan(20);
  });

  it('state changes the session could not take arrive as a full state once it drains', async () => {
    const { bed, c, room, server } = await setup();
    c.outage(2000);
    // Each patch carries ~1 KB of text: a handful fill the 4 KB channel, the rest are not taken.
    for (let i = 1; i <= 20; i++) {
      server.state.n = i;
      server.state.text = String(i).repeat(1000).slice(0, 1000);
      await bed.advance(60);
    }
    await bed.advance(2000);
    await bed.settle();
    expect(room.state.toJSON()).toEqual(server.state.toJSON());
    expect(room.state.n).toBe(20);
    // It came as a full state, not by a desync the digests had to catch.
    expect(room.stats.fullStates).toBeGreaterThanOrEqual(2);
    expect(room.stats.desyncs).toBe(0);
    expect(bed.errors).toEqual([]);
    expect(c.ended).toBeUndefined();
  });
});
