// The page's game loop: inputs sent 60 times a second (room.input, unreliable, redundant) and predicted at
// once for the local player (Predictor, reconciled with every state); the others drawn interpolated
// (Interpolator over the whole world); shots sent with the render time they were aimed at.
import { Interpolator, Predictor, type Room } from '@volley/client';
import { FIRE_COOLDOWN_MS, TICK_MS } from '../game/arena.js';
import type { Shoot, ShotEvent } from '../game/messages.js';
import { step, type Move, type Position } from '../game/movement.js';
import { Controls, type Arena } from '../game/state.js';
import { blendWorlds, type Pose, type World } from './world-view.js';

/** How far a reconciliation moved the player, px; the state's float32 rounding (well under 0.01 px) is none. */
function correction(a: Position, b: Position): number {
  const d = Math.hypot(a.x - b.x, a.y - b.y);
  return d < 0.01 ? 0 : d;
}

export interface Techniques {
  prediction: boolean;
  interpolation: boolean;
}

export class ShooterGame {
  readonly techniques: Techniques = { prediction: true, interpolation: true };
  readonly world = new Interpolator<World>(blendWorlds, { interval: 50 });
  private predictor: Predictor<Position, Move>;
  private readonly input;
  private accumulator = 0;
  private lastFrame: number | undefined;
  private lastShot = -Infinity;
  /** Shots this page fired, and their events as the server judged them. */
  readonly fired: { at: number; angle: number; viewTime: number }[] = [];
  readonly judged: ShotEvent[] = [];

  constructor(readonly room: Room<Arena>) {
    this.input = room.input(Controls, { historySize: 3 });
    this.predictor = this.newPredictor();
    room.onStateChange((state) => this.onState(state));
    room.onMessage('shot', (e) => {
      const shot = e as ShotEvent;
      if (shot.shooter === room.sessionId) this.judged.push(shot);
    });
  }

  private newPredictor(): Predictor<Position, Move> {
    const me = this.room.state.players.get(this.room.sessionId);
    return new Predictor<Position, Move>({ x: me?.x ?? 0, y: me?.y ?? 0 }, { apply: step, error: (a, b) => correction(a, b) });
  }

  get corrections() {
    return this.predictor.stats;
  }

  private onState(state: Arena): void {
    const world = new Map<string, Pose>();
    for (const [id, p] of state.players) if (id !== this.room.sessionId) world.set(id, { x: p.x, y: p.y, angle: p.angle });
    this.world.push(state.time, world, this.room.serverTime());
    const me = state.players.get(this.room.sessionId);
    if (me) this.predictor.reconcile({ x: me.x, y: me.y }, me.lastInput);
  }

  /**
   * One frame at `now` (performance.now()): sends the inputs due (60 a second), fires if asked and allowed.
   * `dx`, `dy` are the movement keys, `aim` where the mouse points.
   */
  frame(now: number, dx: number, dy: number, aim: { x: number; y: number }, trigger: boolean): void {
    this.accumulator += this.lastFrame === undefined ? TICK_MS : Math.min(250, now - this.lastFrame);
    this.lastFrame = now;
    const me = this.me();
    const angle = me ? Math.atan2(aim.y - me.y, aim.x - me.x) : 0;
    while (this.accumulator >= TICK_MS) {
      this.accumulator -= TICK_MS;
      this.input.value.dx = dx;
      this.input.value.dy = dy;
      this.input.value.angle = angle;
      const seq = this.input.send();
      if (seq <= this.predictor.lastSeq) this.predictor = this.newPredictor(); // a new seat: numbering restarted
      this.predictor.enabled = this.techniques.prediction;
      this.predictor.input({ dx, dy }, seq);
    }
    if (trigger && now - this.lastShot >= FIRE_COOLDOWN_MS) this.fire(angle, now);
  }

  /** Fires at `angle`, telling the server what this page was showing (its render time). */
  fire(angle: number, now = performance.now()): void {
    this.lastShot = now;
    const viewTime = this.techniques.interpolation ? this.world.time : this.room.serverTime();
    const shot: Shoot = { angle, viewTime: Number.isFinite(viewTime) ? viewTime : this.room.serverTime() };
    this.fired.push({ at: now, angle, viewTime: shot.viewTime });
    this.room.send('shoot', shot);
  }

  /** Where to draw the local player: predicted, or the server's latest. */
  me(): Position | undefined {
    const server = this.room.state.players.get(this.room.sessionId);
    if (!server) return undefined;
    return this.techniques.prediction ? this.predictor.state : { x: server.x, y: server.y };
  }

  /** Where to draw the others now: interpolated, or the latest state as it is. */
  others(now: number): World {
    if (this.techniques.interpolation) return this.world.sample(this.room.serverTime(), now) ?? new Map();
    const latest = new Map<string, Pose>();
    for (const [id, p] of this.room.state.players) if (id !== this.room.sessionId) latest.set(id, { x: p.x, y: p.y, angle: p.angle });
    return latest;
  }
}
