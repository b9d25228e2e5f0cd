// The A/B/C demo's script on the server: bots A, B and C fire one after another (A at B, B at C, C at A),
// `gap` ms apart, and nothing else goes on the reliable-ordered channel meanwhile — the state holds still
// and its patches wait — so the three shots are the only messages of the story. The page drops the packet
// carrying B's shot on its way and shows what the protocol does about it.

/** What the script needs of the room. */
export interface AbcStage {
  /** Session ids of the players named A, B and C. */
  shooters(): [string, string, string] | undefined;
  /** Where a player stands. */
  position(id: string): { x: number; y: number } | undefined;
  /** Fires a shot for `id` at `angle` now (no rewind: bots see the true state). */
  fire(id: string, angle: number): void;
  /** Holds the state still (no simulation, no patches) or lets it go again. */
  hold(on: boolean): void;
  /** Brings A, B and C back to full health, so the demo can be played again and again. */
  heal(ids: readonly string[]): void;
  setTimeout(run: () => void, ms: number): { clear(): void };
}

export interface AbcScriptOptions {
  /** Time between the shots (ms). It must be less than a round trip, so C is on its way before B's loss is known. */
  gap?: number;
  /** How long the state stays still after C's shot, for the resend to happen (ms). */
  settle?: number;
}

export class AbcScript {
  private running = false;
  private readonly timers: { clear(): void }[] = [];
  private readonly gap: number;
  private readonly settle: number;

  constructor(
    private readonly stage: AbcStage,
    options: AbcScriptOptions = {},
  ) {
    this.gap = options.gap ?? 200;
    this.settle = options.settle ?? 2000;
  }

  get playing(): boolean {
    return this.running;
  }

  /** Plays the three shots; false if it is already playing or A, B and C are not all there. */
  play(): boolean {
    const ids = this.stage.shooters();
    if (this.running || !ids) return false;
    this.running = true;
    this.stage.heal(ids);
    this.stage.hold(true);
    ids.forEach((id, i) => {
      const target = ids[(i + 1) % 3]!;
      this.timers.push(
        this.stage.setTimeout(() => {
          const from = this.stage.position(id);
          const to = this.stage.position(target);
          if (from && to) this.stage.fire(id, Math.atan2(to.y - from.y, to.x - from.x));
        }, i * this.gap),
      );
    });
    this.timers.push(this.stage.setTimeout(() => this.stop(), 2 * this.gap + this.settle));
    return true;
  }

  stop(): void {
    for (const t of this.timers.splice(0)) t.clear();
    if (this.running) this.stage.hold(false);
    this.running = false;
  }
}
