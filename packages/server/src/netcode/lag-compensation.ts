/**
 * Server-side lag compensation (docs/netcode.md): a short history of every entity's hitbox, one record per
 * tick, and `rewind(viewTime)` — the hitboxes as they were at the time a shooter saw them (its render time,
 * sent with the shot), interpolated between the ticks around it. How far back a client may reach is capped
 * (`maxRewind`), so a laggy or lying client cannot shoot into the far past; the answer says whether it was
 * clamped and by how much it rewound, for a kill feed or logs.
 */

import { SnapshotBuffer, type Interpolate } from '@volley/protocol';

export interface LagCompensationOptions<H> {
  /** A hitbox `alpha` of the way between two records of it (e.g. lerp its x and y). */
  interpolate: Interpolate<H>;
  /** The furthest back a rewind may go from `now`, ms (default 250). */
  maxRewind?: number;
  /** Records kept (default 64: a second at 60 Hz); the history must cover maxRewind. */
  capacity?: number;
}

export interface Rewound<H> {
  /** The time the hitboxes are at, ms on the server's clock. */
  time: number;
  /** now − time, ms. */
  rewound: number;
  /** True when the view time asked for was further back than maxRewind (or ahead of now) and was clamped. */
  clamped: boolean;
  /** Each entity's hitbox then; an entity not yet recorded then is absent. */
  hitboxes: ReadonlyMap<string, H>;
}

const EMPTY: ReadonlyMap<string, never> = new Map<string, never>();

export class LagCompensation<H> {
  readonly maxRewind: number;
  private readonly history: SnapshotBuffer<ReadonlyMap<string, H>>;
  private readonly between: Interpolate<ReadonlyMap<string, H>>;

  constructor(options: LagCompensationOptions<H>) {
    this.maxRewind = options.maxRewind ?? 250;
    if (!(this.maxRewind >= 0) || !Number.isFinite(this.maxRewind)) throw new RangeError(`maxRewind must be ≥ 0 ms, got ${this.maxRewind}`);
    this.history = new SnapshotBuffer(options.capacity ?? 64);
    const one = options.interpolate;
    // Entities in both records are interpolated; one that appeared in between is taken as it was first seen.
    this.between = (from, to, alpha) => {
      const out = new Map<string, H>();
      for (const [id, b] of to) {
        const a = from.get(id);
        out.set(id, a === undefined ? b : one(a, b, alpha));
      }
      return out;
    };
  }

  /** Records every entity's hitbox at server time `time` (call it once per tick, after the tick moved them). */
  record(time: number, hitboxes: Iterable<readonly [string, H]>): void {
    this.history.push(time, new Map(hitboxes));
  }

  /** The hitboxes at `viewTime`, clamped to [now − maxRewind, now]. */
  rewind(viewTime: number, now: number): Rewound<H> {
    const earliest = now - this.maxRewind;
    const wanted = Number.isFinite(viewTime) ? viewTime : now;
    const time = Math.min(now, Math.max(earliest, wanted));
    const hitboxes = this.history.at(time, this.between) ?? EMPTY;
    return { time, rewound: now - time, clamped: time !== viewTime, hitboxes };
  }

  /** Forgets everything (a new round). */
  clear(): void {
    this.history.clear();
  }
}
