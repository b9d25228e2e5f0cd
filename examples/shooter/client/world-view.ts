// What the page draws of the others: every player's position and aim, interpolated as a whole world, so
// one render time (what the shooter saw, sent with each shot) covers everyone.
import { lerp, lerpAngle } from '@volley/client';

export interface Pose {
  x: number;
  y: number;
  angle: number;
}

export type World = ReadonlyMap<string, Pose>;

/** `alpha` of the way between two worlds; a player only in the later one is taken as it is there. */
export function blendWorlds(a: World, b: World, alpha: number): World {
  const out = new Map<string, Pose>();
  for (const [id, to] of b) {
    const from = a.get(id);
    out.set(id, from ? { x: lerp(from.x, to.x, alpha), y: lerp(from.y, to.y, alpha), angle: lerpAngle(from.angle, to.angle, alpha) } : to);
  }
  return out;
}
