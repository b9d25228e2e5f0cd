// The arena drawn with pixi.js 8: each player a circle in its colour with its aim, a health bar and a name
// tag with its round-trip time; shots as tracers that fade. Falls back to pixi's canvas renderer without WebGL.
import { Application, Container, Graphics, Text } from 'pixi.js';
import { ARENA, MAX_HP, PLAYER_RADIUS, SHOT_RANGE } from '../game/arena.js';
import type { ShotEvent } from '../game/messages.js';
import type { Player } from '../game/state.js';
import type { Pose } from './world-view.js';

const TRACER_MS = 250;

interface Sprite {
  root: Container;
  body: Graphics;
  bar: Graphics;
  tag: Text;
}

export class ArenaView {
  readonly app = new Application();
  private readonly sprites = new Map<string, Sprite>();
  private readonly tracers: { g: Graphics; born: number }[] = [];
  private readonly layer = new Container();

  async init(parent: HTMLElement): Promise<void> {
    await this.app.init({ width: ARENA.width, height: ARENA.height, background: '#11161c', antialias: true, preference: 'webgl' });
    parent.appendChild(this.app.canvas);
    const grid = new Graphics();
    for (let x = 0; x <= ARENA.width; x += 60) grid.moveTo(x, 0).lineTo(x, ARENA.height);
    for (let y = 0; y <= ARENA.height; y += 60) grid.moveTo(0, y).lineTo(ARENA.width, y);
    grid.stroke({ color: 0x1d2530, width: 1 });
    this.app.stage.addChild(grid, this.layer);
  }

  /** Draws every player: `poses` says where (predicted, interpolated or latest), `players` who they are. */
  draw(players: ReadonlyMap<string, Player>, poses: ReadonlyMap<string, Pose>, self: string, now: number): void {
    for (const [id, sprite] of this.sprites) {
      if (!players.has(id)) {
        sprite.root.destroy({ children: true });
        this.sprites.delete(id);
      }
    }
    for (const [id, p] of players) {
      const pose = poses.get(id);
      const sprite = this.sprites.get(id) ?? this.add(id, p, id === self);
      sprite.root.visible = pose !== undefined;
      if (!pose) continue;
      sprite.root.position.set(pose.x, pose.y);
      sprite.body.rotation = pose.angle;
      sprite.root.alpha = p.hp > 0 ? 1 : 0.25;
      sprite.bar
        .clear()
        .rect(-PLAYER_RADIUS, PLAYER_RADIUS + 4, (2 * PLAYER_RADIUS * p.hp) / MAX_HP, 3)
        .fill(0x5cff8a);
      const tag = `${p.name}${p.bot ? '' : ` ${p.rtt} ms`}${id === self ? ' (you)' : ''}  ${p.score}`;
      if (sprite.tag.text !== tag) sprite.tag.text = tag;
    }
    for (let i = this.tracers.length - 1; i >= 0; i--) {
      const t = this.tracers[i]!;
      const age = now - t.born;
      if (age >= TRACER_MS) {
        t.g.destroy();
        this.tracers.splice(i, 1);
      } else t.g.alpha = 1 - age / TRACER_MS;
    }
  }

  /** A shot's tracer, from the muzzle to the target (as drawn now) or to the end of its range. */
  shot(e: ShotEvent, color: number, target: Pose | undefined, now: number): void {
    const end = target ?? { x: e.x + Math.cos(e.angle) * SHOT_RANGE, y: e.y + Math.sin(e.angle) * SHOT_RANGE };
    const g = new Graphics()
      .moveTo(e.x, e.y)
      .lineTo(end.x, end.y)
      .stroke({ color, width: e.target ? 2 : 1 });
    this.layer.addChild(g);
    this.tracers.push({ g, born: now });
  }

  private add(id: string, p: Player, self: boolean): Sprite {
    const root = new Container();
    const body = new Graphics()
      .circle(0, 0, PLAYER_RADIUS)
      .fill(p.color)
      .moveTo(0, 0)
      .lineTo(PLAYER_RADIUS + 10, 0)
      .stroke({ color: 0xffffff, width: 3 });
    if (self) body.circle(0, 0, PLAYER_RADIUS + 3).stroke({ color: 0xffffff, width: 1 });
    const bar = new Graphics();
    const tag = new Text({ text: p.name, style: { fill: p.color, fontSize: 12, fontFamily: 'monospace' } });
    tag.anchor.set(0.5, 1);
    tag.position.set(0, -PLAYER_RADIUS - 4);
    root.addChild(body, bar, tag);
    this.layer.addChild(root);
    const sprite = { root, body, bar, tag };
    this.sprites.set(id, sprite);
    return sprite;
  }
}
