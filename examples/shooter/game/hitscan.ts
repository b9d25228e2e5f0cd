// A shot is a ray: the first player circle it crosses within range is hit. Pure.

export interface Circle {
  x: number;
  y: number;
  r: number;
}

export interface Hit {
  id: string;
  /** Distance from the muzzle to where the ray enters the circle. */
  distance: number;
}

/** The first circle (other than `shooter`'s) a ray from (x, y) at `angle` enters within `range`. */
export function firstHit(
  x: number,
  y: number,
  angle: number,
  range: number,
  targets: Iterable<readonly [string, Circle]>,
  shooter: string,
): Hit | undefined {
  const ux = Math.cos(angle);
  const uy = Math.sin(angle);
  let best: Hit | undefined;
  for (const [id, c] of targets) {
    if (id === shooter) continue;
    // Ray-circle: the closest approach along the ray, then back by the half-chord.
    const along = (c.x - x) * ux + (c.y - y) * uy;
    if (along < 0) continue;
    const off2 = (c.x - x) ** 2 + (c.y - y) ** 2 - along * along;
    if (off2 > c.r * c.r) continue;
    const distance = along - Math.sqrt(c.r * c.r - off2);
    if (distance > range) continue;
    if (!best || distance < best.distance) best = { id, distance };
  }
  return best;
}
