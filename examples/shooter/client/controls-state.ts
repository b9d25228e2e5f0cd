// What the player is pressing: movement keys, the aim (towards the mouse) and the trigger.

export class ControlsState {
  private readonly keys = new Set<string>();
  /** The mouse, in arena coordinates. */
  mouse = { x: 0, y: 0 };
  private trigger = false;

  constructor(target: HTMLElement) {
    addEventListener('keydown', (e) => {
      this.keys.add(e.code);
      if (e.code === 'Space') {
        this.trigger = true;
        e.preventDefault();
      }
    });
    addEventListener('keyup', (e) => this.keys.delete(e.code));
    addEventListener('blur', () => this.keys.clear());
    target.addEventListener('mousemove', (e) => {
      const r = target.getBoundingClientRect();
      this.mouse = { x: e.clientX - r.left, y: e.clientY - r.top };
    });
    target.addEventListener('mousedown', () => (this.trigger = true));
  }

  get dx(): number {
    return (this.down('KeyD', 'ArrowRight') ? 1 : 0) - (this.down('KeyA', 'ArrowLeft') ? 1 : 0);
  }

  get dy(): number {
    return (this.down('KeyS', 'ArrowDown') ? 1 : 0) - (this.down('KeyW', 'ArrowUp') ? 1 : 0);
  }

  /** Whether the trigger was pulled since the last call. */
  takeTrigger(): boolean {
    const t = this.trigger;
    this.trigger = false;
    return t;
  }

  private down(...codes: string[]): boolean {
    return codes.some((c) => this.keys.has(c));
  }
}
