/**
 * The sample shooter's lag compensation, end to end in simulated time (@volley/testing): a player on a
 * 180 ms round trip aims every shot at where its screen shows a strafing target (the Interpolator's render of
 * the room's patches) and fires with its view time (only while the target will still be alive when the shot
 * is judged: a shot at a dead target is no test of aim). With lag compensation the server judges the shot against
 * where the target was at that view time and nearly every aimed shot hits; without it the target has moved
 * on by the time the shot is judged and most miss. The same in Chromium over WebRTC is the browser test's.
 */

import { describe, expect, it } from 'vitest';
import { Interpolator, lerp } from '@volley/client';
import { RoomTestbed } from '@volley/testing';
import { FIRE_COOLDOWN_MS, TICK_MS } from '../../examples/shooter/game/arena.js';
import type { ShotEvent } from '../../examples/shooter/game/messages.js';
import { Arena, Controls } from '../../examples/shooter/game/state.js';
import { ArenaRoom } from '../../examples/shooter/server/arena-room.js';

type Pos = { x: number; y: number };
const blend = (a: Pos, b: Pos, t: number): Pos => ({ x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t) });

async function duel(lagCompensation: boolean, seed: number) {
  const bed = new RoomTestbed({ seed, link: { latency: 90, jitter: 5 } });
  bed.define('arena', ArenaRoom);
  const client = await bed.connect();
  const room = await client.joinOrCreate('arena', { bots: 1, lagCompensation, botBrain: { shoots: false, spread: 0 } }, Arena);
  const target = 'bot-1';
  const seen = new Interpolator<Pos>(blend, { interval: 50 });
  room.onStateChange((s) => {
    const p = s.players.get(target);
    if (p) seen.push(s.time, { x: p.x, y: p.y }, room.serverTime());
  });
  const shots: ShotEvent[] = [];
  room.onMessage('shot', (e) => shots.push(e as ShotEvent));

  // Walk down, out of the target's row, so it strafes across the line of fire.
  const input = room.input(Controls, { historySize: 3 });
  for (let i = 0; i < 90; i++) {
    input.value.dx = 0;
    input.value.dy = 1;
    input.send();
    await bed.advance(TICK_MS);
  }
  input.value.dy = 0;
  let fired = 0;
  let nextShot = 0;
  for (let frame = 0; frame < 60 * 30; frame++) {
    input.send();
    const drawn = seen.sample(room.serverTime(), bed.now);
    const me = room.state.players.get(room.sessionId)!;
    // Aim only at a target that will still be alive when the shot is judged. Shots are 300 ms apart and the
    // previous one's effect is back in the state within 230 ms (90 up, ≤ 50 to the next patch, 90 down), so
    // the hp seen counts every earlier shot and a kill in flight is never scored as a miss.
    const alive = (room.state.players.get(target)?.hp ?? 0) > 0;
    if (drawn && alive && bed.now >= nextShot) {
      room.send('shoot', { angle: Math.atan2(drawn.y - me.y, drawn.x - me.x), viewTime: seen.time });
      fired++;
      nextShot = bed.now + FIRE_COOLDOWN_MS + 50;
    }
    await bed.advance(TICK_MS);
  }
  await bed.advance(1000); // the last shots' events come back (the room never goes quiet: the bot moves)
  const mine = shots.filter((s) => s.shooter === room.sessionId);
  return { fired, judged: mine.length, hits: mine.filter((s) => s.target === target).length, rewound: mine.map((s) => s.rewound) };
}

describe('shooter: lag-compensated hitscan', () => {
  it('with lag compensation, ≥ 95 % of aimed shots at a strafing target hit from a 180 ms round trip', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await duel(true, seed);
      expect(r.judged).toBe(r.fired); // every shot reached the server and was judged (reliable-ordered)
      expect(r.fired).toBeGreaterThan(40);
      expect(r.hits / r.fired, `seed ${seed}: ${r.hits}/${r.fired}`).toBeGreaterThanOrEqual(0.95);
      // It rewound by about the round trip's worth and the interpolation delay, never past the cap.
      expect(Math.min(...r.rewound)).toBeGreaterThan(100);
      expect(Math.max(...r.rewound)).toBeLessThanOrEqual(300);
    }
  });

  it('without it, most of the same shots miss', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await duel(false, seed);
      expect(r.judged).toBe(r.fired);
      expect(r.hits / r.fired, `seed ${seed}: ${r.hits}/${r.fired}`).toBeLessThan(0.5);
    }
  });
});
