// The list of recent shots beside the arena: who shot whom, for how much, and how far the server rewound.
import type { ShotEvent } from '../game/messages.js';

const KEEP = 12;

export class KillFeed {
  constructor(private readonly list: HTMLElement) {}

  /** `name` turns a session id into the player's name. */
  add(e: ShotEvent, name: (id: string) => string): void {
    const li = document.createElement('li');
    const who = name(e.shooter);
    if (e.target) {
      li.textContent = `${who} → ${name(e.target)} hit ${e.damage}${e.kill ? ' ✖' : ''}, rewound ${e.rewound} ms${e.clamped ? ' (capped)' : ''}`;
      if (e.kill) li.className = 'kill';
    } else {
      li.textContent = `${who} missed, rewound ${e.rewound} ms`;
      li.className = 'miss';
    }
    this.list.prepend(li);
    while (this.list.children.length > KEEP) this.list.lastElementChild?.remove();
  }
}
