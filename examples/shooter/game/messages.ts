// The shooter's messages. Shots travel on the reliable-ordered channel: every client sees every shot, in order.

/** Client → server: I fired, at this angle, seeing the world as it was at `viewTime` (server clock, ms). */
export interface Shoot {
  angle: number;
  viewTime: number;
}

/** Server → every client: what a shot did. */
export interface ShotEvent {
  /** Shots are numbered by the server, from 1. */
  id: number;
  shooter: string;
  x: number;
  y: number;
  angle: number;
  /** Who was hit (a player's session id), if anyone, and for how much. */
  target?: string;
  damage: number;
  /** How far the server rewound the targets to judge it (ms), and whether the view time was out of bounds. */
  rewound: number;
  clamped: boolean;
  /** The target died of it. */
  kill: boolean;
}

/** Whether `m` is a usable Shoot (anything from a client is checked). */
export function isShoot(m: unknown): m is Shoot {
  if (typeof m !== 'object' || m === null) return false;
  const s = m as Record<string, unknown>;
  return (
    typeof s['angle'] === 'number' && Number.isFinite(s['angle']) && typeof s['viewTime'] === 'number' && Number.isFinite(s['viewTime'])
  );
}
