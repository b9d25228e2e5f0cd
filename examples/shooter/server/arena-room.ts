// The sample shooter's room: an authoritative 60 Hz simulation, 20 Hz patches, inputs on the unreliable
// channel (room.input), shots judged against where the targets were when the shooter saw them (lag
// compensation, switchable), shot events on the reliable-ordered channel, server-side bots, and seats
// held for 10 s so a player who drops comes back with its entity and score.
import { lerp } from '@volley/protocol';
import { LagCompensation, Room, type RoomClient } from '@volley/server';
import {
  ARENA,
  DAMAGE,
  FIRE_COOLDOWN_MS,
  MAX_HP,
  MAX_REWIND_MS,
  PATCH_MS,
  PLAYER_COLORS,
  PLAYER_RADIUS,
  RESPAWN_MS,
  SHOT_RANGE,
  TICK_MS,
  playerName,
} from '../game/arena.js';
import { firstHit, type Circle } from '../game/hitscan.js';
import { isShoot, type ShotEvent } from '../game/messages.js';
import { step } from '../game/movement.js';
import { Arena, Controls, Player } from '../game/state.js';
import { AbcScript } from './abc-script.js';
import { BotBrain, type BotBrainOptions, type BotView } from './bot-brain.js';

// A type, not an interface: room options are a Record<string, unknown> (server.define's defaults).
export type ArenaOptions = {
  /** Server-side bots to fill the match with (default 2, at most 8). */
  bots?: number;
  /** Judge shots where the shooter saw the targets (default true); off: where they are now. */
  lagCompensation?: boolean;
  /** For tests: the bots' brains (seeded, a target that does not shoot). */
  botBrain?: BotBrainOptions;
  /** Seconds a dropped player's seat is held (default 10). */
  reconnectSeconds?: number;
  /**
   * The A/B/C demo: bots A, B and C stand still, one viewer, and an 'abc' message from the page plays the
   * script (A, B and C fire in turn; see abc-script.ts).
   */
  demo?: boolean;
};

interface Bot {
  id: string;
  brain: BotBrain;
}

/** Where players appear, as fractions of the arena. */
const SPAWNS: readonly (readonly [number, number])[] = [
  [0.2, 0.3],
  [0.5, 0.7],
  [0.8, 0.3],
  [0.35, 0.5],
  [0.65, 0.5],
  [0.5, 0.2],
];

const between = (a: Circle, b: Circle, t: number): Circle => ({ x: lerp(a.x, b.x, t), y: lerp(a.y, b.y, t), r: a.r });

export class ArenaRoom extends Room<Arena> {
  /** Players in one match (the server's bots are not clients); the next player gets a new arena. */
  override maxClients = 16;
  lagCompensation = true;
  private readonly history = new LagCompensation<Circle>({ interpolate: between, maxRewind: MAX_REWIND_MS });
  private readonly lastShot = new Map<string, number>();
  private readonly bots: Bot[] = [];
  private joined = 0;
  private shots = 0;
  private reconnectSeconds = 10;
  private demo: AbcScript | undefined;
  /** While the demo plays: no simulation, no inputs applied, no patches. */
  private held = false;

  override onCreate(options: ArenaOptions = {}): void {
    this.setState(new Arena().assign({ time: 0, stepMaxMs: 0, lateTicks: 0, droppedTicks: 0 }));
    this.lagCompensation = options.lagCompensation ?? true;
    this.reconnectSeconds = options.reconnectSeconds ?? 10;
    this.setPatchRate(PATCH_MS);
    this.onInput(Controls, (client, controls, seq) => {
      const p = this.state.players.get(client.sessionId);
      if (!p || this.held) return;
      p.lastInput = seq; // applied (or refused while dead): the client reconciles from here
      if (p.hp === 0) return;
      const next = step(p, controls);
      p.x = next.x;
      p.y = next.y;
      if (Number.isFinite(controls.angle)) p.angle = controls.angle;
    });
    this.onMessage('shoot', (client, message) => {
      if (isShoot(message)) this.fire(client.sessionId, message.angle, message.viewTime);
    });
    // The page's "lag compensation" switch (a demo: it is the room's, for everyone in it).
    this.onMessage('settings', (_client, message) => {
      const on = (message as { lagCompensation?: unknown } | null)?.lagCompensation;
      if (typeof on === 'boolean') this.lagCompensation = on;
    });
    if (options.demo) {
      this.maxClients = 1;
      this.demo = new AbcScript({
        shooters: () => {
          const ids = this.bots.slice(0, 3).map((b) => b.id);
          return ids.length === 3 && ids.every((id) => this.state.players.has(id)) ? (ids as [string, string, string]) : undefined;
        },
        position: (id) => this.state.players.get(id),
        fire: (id, angle) => {
          this.lastShot.delete(id);
          this.fire(id, angle);
        },
        hold: (on) => {
          this.held = on;
          this.setPatchRate(on ? 0 : PATCH_MS);
        },
        heal: (ids) => {
          for (const id of ids) this.respawn(this.state.players.get(id)!);
        },
        setTimeout: (run, ms) => this.clock.setTimeout(run, ms),
      });
      this.onMessage('abc', () => void this.demo?.play());
    }
    const bots = options.demo ? 3 : Math.min(8, Math.max(0, Math.floor(Number(options.bots ?? 2)) || 0));
    for (let i = 0; i < bots; i++) this.addBot(options.botBrain);
    this.setSimulationInterval(() => this.tick(), TICK_MS);
    // The tick's health for the page's net graph, once a second (a change every tick would be a patch every tick).
    this.clock.setInterval(() => {
      const h = this.tickHealth;
      if (!h || this.held) return;
      this.state.stepMaxMs = Math.round(h.maxStepMs * 100) / 100;
      this.state.lateTicks = h.lateRuns;
      this.state.droppedTicks = h.dropped;
    }, 1000);
  }

  override onJoin(client: RoomClient): void {
    // In the demo the viewer stands clear of the three lines of fire (A to B, B to C, C to A).
    this.spawn(client.sessionId, false, this.demo ? 5 : undefined);
  }

  override onDrop(client: RoomClient): void {
    void this.allowReconnection(client, this.reconnectSeconds).catch(() => {});
  }

  override onLeave(client: RoomClient): void {
    this.state.players.delete(client.sessionId);
    this.lastShot.delete(client.sessionId);
  }

  /**
   * A shot by `id`: judged against the targets as the shooter saw them at `viewTime` (if compensating), or
   * as they are now when no view time is given (bots: they see the true state).
   */
  fire(id: string, angle: number, viewTime?: number): ShotEvent | undefined {
    const shooter = this.state.players.get(id);
    const now = this.clock.currentTime;
    if (!shooter || shooter.hp === 0 || !Number.isFinite(angle)) return undefined;
    if (now - (this.lastShot.get(id) ?? -Infinity) < FIRE_COOLDOWN_MS) return undefined;
    this.lastShot.set(id, now);
    const rewound =
      this.lagCompensation && viewTime !== undefined
        ? this.history.rewind(viewTime, now)
        : { rewound: 0, clamped: false, hitboxes: this.hitboxes() };
    // The shooter fires from where it is now; the others are where the shooter saw them.
    const living = [...rewound.hitboxes].filter(([pid]) => (this.state.players.get(pid)?.hp ?? 0) > 0);
    const hit = firstHit(shooter.x, shooter.y, angle, SHOT_RANGE, living, id);
    const event: ShotEvent = {
      id: ++this.shots,
      shooter: id,
      x: shooter.x,
      y: shooter.y,
      angle,
      damage: 0,
      rewound: Math.round(rewound.rewound),
      clamped: rewound.clamped,
      kill: false,
    };
    const target = hit ? this.state.players.get(hit.id) : undefined;
    if (hit && target) {
      event.target = hit.id;
      event.damage = Math.min(DAMAGE, target.hp);
      target.hp -= event.damage;
      if (target.hp === 0) {
        event.kill = true;
        shooter.score++;
        target.deaths++;
        target.respawnAt = now + RESPAWN_MS;
      }
    }
    this.broadcast('shot', event);
    return event;
  }

  override onDispose(): void {
    this.demo?.stop();
  }

  private tick(): void {
    if (this.held) return;
    const now = this.clock.currentTime;
    this.state.time = now;
    for (const p of this.state.players.values()) if (p.hp === 0 && p.respawnAt > 0 && now >= p.respawnAt) this.respawn(p);
    for (const client of this.clients) {
      const p = this.state.players.get(client.sessionId);
      if (p) p.rtt = Math.min(65_535, Math.round(client.rtt));
    }
    if (this.bots.length > 0 && !this.demo) {
      // What every bot sees this tick, gathered once.
      const others = [...this.state.players].map(([id, p]) => ({ id, x: p.x, y: p.y, alive: p.hp > 0 }));
      for (const bot of this.bots) this.drive(bot, now, others);
    }
    this.history.record(now, this.hitboxes());
  }

  private drive(bot: Bot, now: number, others: BotView['others']): void {
    const self = this.state.players.get(bot.id);
    if (!self || self.hp === 0) return;
    const d = bot.brain.decide({ self: { id: bot.id, x: self.x, y: self.y }, others, now });
    const next = step(self, d);
    self.x = next.x;
    self.y = next.y;
    self.angle = d.angle;
    if (d.fire) this.fire(bot.id, d.angle);
  }

  private hitboxes(): [string, Circle][] {
    return [...this.state.players].map(([id, p]) => [id, { x: p.x, y: p.y, r: PLAYER_RADIUS }]);
  }

  private addBot(brain?: BotBrainOptions): void {
    const id = `bot-${this.bots.length + 1}`;
    this.bots.push({ id, brain: new BotBrain(brain) });
    this.spawn(id, true);
  }

  private spawn(id: string, bot: boolean, place?: number): void {
    const index = this.joined++;
    const at = SPAWNS[(place ?? index) % SPAWNS.length]!;
    const lower = place === undefined ? 0.1 * (Math.floor(index / SPAWNS.length) % 2) : 0;
    const p = new Player().assign({
      name: bot ? `${playerName(index)} (bot)` : playerName(index),
      color: PLAYER_COLORS[index % PLAYER_COLORS.length]!,
      bot,
      angle: 0,
      hp: MAX_HP,
      score: 0,
      deaths: 0,
      lastInput: 0,
      rtt: 0,
      respawnAt: 0,
      // Spread over the arena: A upper left, B lower middle, C upper right, then the same a little lower.
      x: ARENA.width * at[0],
      y: ARENA.height * (at[1] + lower),
    });
    this.state.players.set(id, p);
  }

  private respawn(p: Player): void {
    p.hp = MAX_HP;
    p.respawnAt = 0;
  }
}
