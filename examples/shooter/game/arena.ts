// The rules of the sample shooter, shared by its server, its page and its tests: the arena, speeds, damage.

export const ARENA = { width: 960, height: 540 } as const;
/** The server simulates 60 ticks a second and patches the state 20 times a second. */
export const TICK_MS = 1000 / 60;
export const PATCH_MS = 50;
export const PLAYER_RADIUS = 16;
/** Pixels per ms. */
export const PLAYER_SPEED = 0.22;
export const MAX_HP = 100;
export const DAMAGE = 25;
export const FIRE_COOLDOWN_MS = 250;
export const RESPAWN_MS = 1500;
export const SHOT_RANGE = 1200;
/**
 * The furthest back the server rewinds a shot (ms): a client cannot shoot into the far past. A shot's view
 * is older than its round trip: one way down, the interpolation delay (which grows with jitter), one way
 * up — 360–500 ms measured in Chromium at a 200 ms link round trip. 1000, as Source's sv_maxunlag, covers
 * players up to about 500 ms; beyond that they have to lead.
 */
export const MAX_REWIND_MS = 1000;

/** Players A, B and C (then D, E, …) and their colours. */
export const PLAYER_COLORS = [0x00e5ff, 0xff3df2, 0xffe600, 0x7cff6b, 0xff8a3d, 0xb38cff] as const;

export function playerName(index: number): string {
  return String.fromCharCode(65 + (index % 26));
}
