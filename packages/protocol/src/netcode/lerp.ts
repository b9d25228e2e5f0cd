/** Interpolation of numbers and angles, for `Interpolate` functions (docs/netcode.md). */

/** The number `alpha` of the way from `a` to `b` (alpha may be above 1: extrapolation). */
export function lerp(a: number, b: number, alpha: number): number {
  return a + (b - a) * alpha;
}

/** An angle (radians) `alpha` of the way from `a` to `b`, the short way round; the result is in (-π, π]. */
export function lerpAngle(a: number, b: number, alpha: number): number {
  const turn = Math.PI * 2;
  let d = (b - a) % turn;
  if (d > Math.PI) d -= turn;
  else if (d < -Math.PI) d += turn;
  let r = (a + d * alpha) % turn;
  if (r > Math.PI) r -= turn;
  else if (r <= -Math.PI) r += turn;
  return r;
}
