/**
 * Client-side prediction with reconciliation (docs/netcode.md): the local player's inputs are applied at
 * once to a predicted state, numbered, and kept until the server says it has applied them (the highest input
 * number it processed, which the game puts in its state). Each authoritative state then replaces the
 * prediction, and the inputs the server has not seen yet are applied again on top: the player sees its
 * own moves with no delay, and the server stays the authority. `apply` must be pure (return a new state).
 * With `enabled = false` the state is the server's alone (inputs are still numbered and kept for it).
 */

export interface PredictorOptions<S, I> {
  /** The game's step for one input: the state after `input`, a new object. */
  apply: (state: S, input: I) => S;
  /** How far apart two states are (for stats: a correction's size); default: no figure (0). */
  error?: (a: S, b: S) => number;
  /** Inputs kept unacknowledged at most (default 256); past it the oldest are forgotten (counted in `dropped`). */
  maxPending?: number;
}

export interface PredictorStats {
  /** Inputs applied locally that the server has not acknowledged yet. */
  pending: number;
  /** Reconciliations whose replayed state differed from the prediction (error > 0), and the last and largest error. */
  corrections: number;
  lastError: number;
  maxError: number;
  /** Inputs forgotten past maxPending. */
  dropped: number;
}

export class Predictor<S, I> {
  /** When false, `state` is the last authoritative state: no prediction (for comparison, or a spectator). */
  enabled = true;
  readonly stats: PredictorStats = { pending: 0, corrections: 0, lastError: 0, maxError: 0, dropped: 0 };
  private predicted: S;
  private authoritative: S;
  private readonly pending: { seq: number; input: I }[] = [];
  private seq = 0;
  private readonly maxPending: number;

  constructor(
    initial: S,
    private readonly options: PredictorOptions<S, I>,
  ) {
    this.predicted = this.authoritative = initial;
    this.maxPending = options.maxPending ?? 256;
    if (!Number.isInteger(this.maxPending) || this.maxPending < 1)
      throw new RangeError(`maxPending must be an integer ≥ 1, got ${this.maxPending}`);
  }

  /** The state to draw the local player with. */
  get state(): S {
    return this.enabled ? this.predicted : this.authoritative;
  }

  /** The number the last input got (0 before any). */
  get lastSeq(): number {
    return this.seq;
  }

  /**
   * Applies an input locally and returns its number: send it with the input, the server echoes it when
   * applied. Pass `seq` to use a number of your own (`room.input(…).send()`'s); it must be above the last.
   */
  input(input: I, seq = this.seq + 1): number {
    if (!Number.isSafeInteger(seq) || seq <= this.seq) throw new RangeError(`input number ${seq} is not above the last (${this.seq})`);
    this.seq = seq;
    this.pending.push({ seq, input });
    if (this.pending.length > this.maxPending) {
      this.pending.shift();
      this.stats.dropped++;
    }
    this.predicted = this.options.apply(this.predicted, input);
    this.stats.pending = this.pending.length;
    return seq;
  }

  /**
   * The server's state, having applied inputs up to `ackedSeq`: forgets those, replays the rest on top, and
   * returns how far the new prediction is from the old one (`error`; 0 without it).
   */
  reconcile(authoritative: S, ackedSeq: number): number {
    let drop = 0;
    while (drop < this.pending.length && this.pending[drop]!.seq <= ackedSeq) drop++;
    if (drop > 0) this.pending.splice(0, drop);
    this.authoritative = authoritative;
    let next = authoritative;
    for (const p of this.pending) next = this.options.apply(next, p.input);
    const error = this.options.error ? this.options.error(this.predicted, next) : 0;
    this.predicted = next;
    const s = this.stats;
    s.pending = this.pending.length;
    s.lastError = error;
    if (error > 0) {
      s.corrections++;
      s.maxError = Math.max(s.maxError, error);
    }
    return error;
  }
}
