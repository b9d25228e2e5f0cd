/**
 * The state both room servers of the rooms benchmark hold, and how it changes: 100 players (x, y, angle,
 * hp), a tenth of them moving each tick, one hit each tick, and `stamp`, the wall-clock time (ms, shared by
 * every process on this machine) at which the tick's mutations were made, from which a bot measures how long
 * a mutation took to reach its callback. The same seeded sequence on both servers: the patches are the same.
 */

import { schema, t } from '@colyseus/schema';
import { Random } from '@volley/protocol';

export const BenchPlayer = schema({ x: t.float32(), y: t.float32(), angle: t.float32(), hp: t.uint8() }, 'BenchPlayer');
export const BenchState = schema({ players: t.map(BenchPlayer), stamp: t.float64() }, 'BenchState');
export type BenchState = InstanceType<typeof BenchState>;

export const PLAYERS = 100;
export const MOVING_PER_TICK = 10;
export const TICK_MS = 50;
/** The room type's name on both servers. */
export const ROOM_NAME = 'bench';
/** What each bot sends, at the tick rate: a small input, on the reliable-ordered channel (Volley's default). */
export const INPUT_TYPE = 'move';

/** Milliseconds since the epoch, with sub-millisecond resolution, comparable across processes. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

/** The same seeded moves on every server. */
function prng(seed: number): () => number {
  const random = new Random(seed);
  return () => random.float();
}

/** Fills a new state with PLAYERS players. */
export function createBenchState(): BenchState {
  const state = new BenchState();
  const random = prng(1);
  for (let i = 0; i < PLAYERS; i++) {
    state.players.set(`p${i}`, new BenchPlayer().assign({ x: random() * 1000, y: random() * 1000, angle: 0, hp: 100 }));
  }
  return state;
}

/** One tick of the game: returns the function that applies it to `state`. */
export function benchTicker(state: BenchState): () => void {
  const random = prng(2);
  const players = [...state.players.values()];
  return () => {
    for (let i = 0; i < MOVING_PER_TICK; i++) {
      const p = players[Math.floor(random() * players.length)]!;
      p.x += random() * 10 - 5;
      p.y += random() * 10 - 5;
      p.angle = random() * Math.PI * 2;
    }
    const hit = players[Math.floor(random() * players.length)]!;
    hit.hp = hit.hp > 10 ? hit.hp - 10 : 100;
    state.stamp = wallClock();
  };
}
