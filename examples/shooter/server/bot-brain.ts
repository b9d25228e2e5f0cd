// What a server-side bot does each tick: strafe back and forth across its lane, turn towards the nearest
// living player and fire at it now and then (every 800 ms or so, not very accurately: a newcomer survives). Bots play by the same rules (movement, cooldown,
// hitscan) as everyone; they see the true state, so they need no lag compensation.
import { ARENA } from '../game/arena.js';
import type { Move, Position } from '../game/movement.js';

export interface BotView {
  self: Position & { id: string };
  others: Iterable<Position & { id: string; alive: boolean }>;
  now: number;
}

export interface BotDecision extends Move {
  angle: number;
  fire: boolean;
}

export interface BotBrainOptions {
  /** How long one strafe leg lasts, ms. */
  legMs?: number;
  /** Radians of aim error (uniform ±), from a seeded source (default 0.2). */
  spread?: number;
  /** Least time between its shots, ms (default 800; the room's cooldown still applies). */
  fireEveryMs?: number;
  /** Whether it shoots at all (a target dummy for tests does not). */
  shoots?: boolean;
  random?: () => number;
}

export class BotBrain {
  private readonly legMs: number;
  private readonly spread: number;
  private readonly shoots: boolean;
  private readonly random: () => number;
  private readonly fireEveryMs: number;
  private nextShot = 0;

  constructor(options: BotBrainOptions = {}) {
    this.legMs = options.legMs ?? 900;
    this.spread = options.spread ?? 0.2;
    this.fireEveryMs = options.fireEveryMs ?? 800;
    this.shoots = options.shoots ?? true;
    this.random = options.random ?? Math.random;
  }

  decide(view: BotView): BotDecision {
    const leg = Math.floor(view.now / this.legMs) % 2 === 0 ? 1 : -1;
    // Strafe horizontally; drift towards the arena's middle row so bots meet.
    const dy = view.self.y < ARENA.height * 0.3 ? 1 : view.self.y > ARENA.height * 0.7 ? -1 : 0;
    let target: Position | undefined;
    let best = Infinity;
    for (const o of view.others) {
      if (!o.alive || o.id === view.self.id) continue;
      const d = Math.hypot(o.x - view.self.x, o.y - view.self.y);
      if (d < best) {
        best = d;
        target = o;
      }
    }
    const aim = target ? Math.atan2(target.y - view.self.y, target.x - view.self.x) : 0;
    const fire = this.shoots && target !== undefined && view.now >= this.nextShot;
    if (fire) this.nextShot = view.now + this.fireEveryMs * (0.75 + this.random() * 0.5);
    return { dx: leg, dy, angle: aim + (this.random() * 2 - 1) * this.spread, fire };
  }
}
