// How a player moves for one input: the server's step, and the page's prediction of it. Pure.
import { ARENA, PLAYER_RADIUS, PLAYER_SPEED, TICK_MS } from './arena.js';

export interface Position {
  x: number;
  y: number;
}

export interface Move {
  /** -1, 0 or 1 on each axis (anything else counts as its sign). */
  dx: number;
  dy: number;
}

/** Where a player at `p` is after one tick of `move`: normalised diagonals, kept inside the arena. */
export function step(p: Position, move: Move): Position {
  const dx = Math.sign(move.dx) || 0;
  const dy = Math.sign(move.dy) || 0;
  const length = Math.hypot(dx, dy) || 1;
  const d = PLAYER_SPEED * TICK_MS;
  return {
    x: clamp(p.x + (dx / length) * d, PLAYER_RADIUS, ARENA.width - PLAYER_RADIUS),
    y: clamp(p.y + (dy / length) * d, PLAYER_RADIUS, ARENA.height - PLAYER_RADIUS),
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
