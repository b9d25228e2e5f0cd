/**
 * Opening transports for connect(): which to start when, and what became of each. The client starts its
 * session on the first transport that opens and moves it to a better one when that opens (client.ts).
 *
 * The plan, over the list best first (e.g. webrtc, websocket, polling):
 *  - parallel (the default): the best transport and the first reliable one (WebSocket) start at once, so a
 *    client is connected in about one round trip even where WebRTC or UDP is blocked; any other starts when
 *    every transport before it has failed, or after `fallbackDelay` with none open (polling, as a last resort).
 *  - sequential (`upgrade: false`): one at a time, the next when the previous failed.
 * Every attempt has `openTimeout`. A transport that opens is handed over (`opened`); one that fails is
 * reported with why (`failed`). `stopWorseThan(rank)` abandons attempts that could no longer be of use.
 */

import { isReliableTransport } from '@volley/protocol';
import type { ClientTransport, TransportKind } from './transport.js';

export interface RaceHandlers {
  opened(transport: ClientTransport, rank: number): void;
  failed(kind: TransportKind, reason: string): void;
}

type Timer = ReturnType<typeof setTimeout>;

interface Attempt {
  kind: TransportKind;
  rank: number;
  state: 'waiting' | 'opening' | 'open' | 'failed' | 'stopped';
  transport?: ClientTransport;
  abort?: AbortController;
}

export class TransportRace {
  private readonly attempts: Attempt[];
  private fallbackTimer: Timer | undefined;
  private anyOpen = false;
  private stopped = false;

  constructor(
    kinds: readonly TransportKind[],
    private readonly make: (kind: TransportKind) => ClientTransport,
    private readonly options: { parallel: boolean; openTimeout: number; fallbackDelay: number },
    private readonly handlers: RaceHandlers,
  ) {
    this.attempts = kinds.map((kind, rank) => ({ kind, rank, state: 'waiting' }));
  }

  /** Starts the plan. */
  start(): void {
    const first = this.attempts[0];
    if (!first) return;
    this.begin(first);
    if (this.options.parallel) {
      const reliable = this.attempts.find((a) => a.rank > 0 && isReliableTransport(a.kind));
      if (reliable) this.begin(reliable);
      if (this.attempts.some((a) => a.state === 'waiting')) {
        this.fallbackTimer = setTimeout(() => {
          if (!this.anyOpen) for (const a of this.attempts) if (a.state === 'waiting') this.begin(a);
        }, this.options.fallbackDelay);
      }
    }
  }

  /** Whether anything is still opening or waiting to be tried. */
  get live(): boolean {
    return this.attempts.some((a) => a.state === 'waiting' || a.state === 'opening');
  }

  /** The rank (position in the list) of a kind. */
  rank(kind: TransportKind): number {
    return this.attempts.find((a) => a.kind === kind)?.rank ?? Infinity;
  }

  /** Abandons attempts ranked `rank` or worse that have not opened (the session has something as good). */
  stopWorseThan(rank: number): void {
    for (const a of this.attempts) if (a.rank >= rank && (a.state === 'waiting' || a.state === 'opening')) this.stopAttempt(a);
    if (!this.live) this.clearFallback();
  }

  /** The session could not start on the open transport of `kind` (no answer to CONNECT): let the plan go on. */
  handshakeFailed(kind: TransportKind): void {
    for (const a of this.attempts) if (a.kind === kind && a.state === 'open') a.state = 'failed';
    this.anyOpen = this.attempts.some((a) => a.state === 'open');
    this.next();
  }

  /** Abandons everything still opening. Transports already handed over are not touched. */
  stop(): void {
    this.stopped = true;
    this.clearFallback();
    for (const a of this.attempts) if (a.state === 'waiting' || a.state === 'opening') this.stopAttempt(a);
  }

  private begin(a: Attempt): void {
    if (this.stopped || a.state !== 'waiting') return;
    a.state = 'opening';
    const abort = new AbortController();
    a.abort = abort;
    let t: ClientTransport;
    try {
      t = this.make(a.kind);
    } catch (e) {
      return this.fail(a, (e as Error).message);
    }
    a.transport = t;
    const timer = setTimeout(
      () => abort.abort(new Error(`${a.kind}: did not open within ${this.options.openTimeout} ms`)),
      this.options.openTimeout,
    );
    t.open(abort.signal).then(
      () => {
        clearTimeout(timer);
        if (a.state !== 'opening') return t.close();
        a.state = 'open';
        this.anyOpen = true;
        this.handlers.opened(t, a.rank);
      },
      (e: unknown) => {
        clearTimeout(timer);
        if (a.state !== 'opening') return;
        t.close();
        const why = abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason.message : (e as Error).message;
        this.fail(a, why);
      },
    );
  }

  private fail(a: Attempt, reason: string): void {
    a.state = 'failed';
    this.handlers.failed(a.kind, reason);
    this.next();
  }

  /** Starts the next waiting attempt whose predecessors all failed (or, sequentially, the next one). */
  private next(): void {
    if (this.stopped || this.anyOpen) return;
    for (const a of this.attempts) {
      if (a.state === 'waiting') return this.begin(a);
      if (a.state !== 'failed' && a.state !== 'stopped') return; // something better is still opening
    }
    this.clearFallback();
  }

  private stopAttempt(a: Attempt): void {
    a.state = 'stopped';
    a.abort?.abort(new Error(`${a.kind}: no longer needed`));
  }

  private clearFallback(): void {
    if (this.fallbackTimer) clearTimeout(this.fallbackTimer);
    this.fallbackTimer = undefined;
  }
}
