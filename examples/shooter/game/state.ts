// The shooter's room state (@colyseus/schema 5): every player, and the server's clock at the last tick.
import { schema, t } from '@colyseus/schema';

export const Player = schema(
  {
    name: t.string(),
    color: t.uint32(),
    bot: t.boolean(),
    x: t.float32(),
    y: t.float32(),
    angle: t.float32(),
    hp: t.uint8(),
    score: t.int16(),
    deaths: t.uint16(),
    /** The last input of this player the server applied (its number): the client reconciles from it. */
    lastInput: t.uint32(),
    /** Round-trip time to this player's client, ms (shown on its name tag). */
    rtt: t.uint16(),
    /** When a dead player comes back (server time, ms); 0 while alive. */
    respawnAt: t.float64(),
  },
  'ShooterPlayer',
);
export type Player = InstanceType<typeof Player>;

export const Arena = schema(
  {
    players: t.map(Player),
    /** The server's clock at the tick this state is from (ms): snapshots for interpolation are stamped with it. */
    time: t.float64(),
    /** The server's tick health, refreshed once a second: its longest simulation step of the last 256 (ms), and its late and dropped runs so far. */
    stepMaxMs: t.float32(),
    lateTicks: t.uint32(),
    droppedTicks: t.uint32(),
  },
  'ShooterArena',
);
export type Arena = InstanceType<typeof Arena>;

/** One tick's controls, sent with room.input() (unreliable, the last few in each packet). */
export const Controls = schema({ dx: t.int8(), dy: t.int8(), angle: t.float32() }, 'ShooterControls');
export type Controls = InstanceType<typeof Controls>;
