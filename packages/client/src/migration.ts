/**
 * Moving a connected session to another transport: when the current one dies or goes silent, the next ones
 * in the list are opened one at a time and asked to resume the session (ClientEndpoint.addPath), round after
 * round, until one takes it or the session ends (the endpoint decides: TransportLost if no transport could
 * take it within resumeTimeout after a close, the protocol's Timeout after silence). An upgrade — a better
 * transport that opened after the session started — goes the same way. One move at a time.
 */

import type { ClientEndpoint } from '@volley/protocol';
import type { Client } from './client.js';
import type { ClientTransport, TransportKind } from './transport.js';

type Outcome = 'moved' | 'refused' | 'closed' | 'timeout' | 'ended';

interface Pending {
  transport: ClientTransport;
  reason: string;
  settle: (o: Outcome) => void;
}

/** Pause between two rounds over every transport. */
const ROUND_PAUSE_MS = 200;
const MAX_ROUNDS = 1000;

export class Migration {
  private pending: Pending | undefined;
  private opening: AbortController | undefined;
  private moving = false;
  private stopped = false;
  /** The last transport the session ran on (for client.transport between transports). */
  lastPath: ClientTransport | undefined;

  constructor(
    private readonly client: Client,
    private readonly endpoint: ClientEndpoint<ClientTransport>,
    private readonly order: readonly TransportKind[],
  ) {
    this.lastPath = endpoint.path;
  }

  /** A move (or an upgrade) is in progress. */
  get busy(): boolean {
    return this.moving || this.pending !== undefined;
  }

  /** The endpoint reports the current transport gone ('closed') or quiet ('silent'). */
  lost(path: ClientTransport, why: 'closed' | 'silent'): void {
    this.lastPath = path;
    const reason = why === 'closed' ? `${path.kind} closed` : `${path.kind} silent for ${this.client.options.transportTimeout} ms`;
    if (this.moving) return;
    this.pending?.settle('closed'); // an upgrade in flight gives way to the move
    void this.move(path.kind, reason);
  }

  /** A better transport opened after the session started: resume on it. */
  upgrade(t: ClientTransport): void {
    if (this.busy || this.stopped) return t.close();
    void this.resumeOn(t, `upgrade to ${t.kind}`).then((o) => {
      if (o !== 'moved') {
        t.close();
        if (o !== 'ended') this.client.noteFailure(t.kind, `upgrade failed: ${o}`);
      }
    });
  }

  /** A transport closed by itself (reported before the endpoint hears it). */
  closed(t: ClientTransport): void {
    if (this.pending?.transport === t) this.pending.settle('closed');
  }

  /** The endpoint moved the session to `path`; returns why (for the 'transport' event). */
  changed(path: ClientTransport): string {
    this.lastPath = path;
    const p = this.pending;
    if (p?.transport !== path) return 'moved';
    p.settle('moved');
    return p.reason;
  }

  /** The server refused to resume on `path`. */
  refused(path: ClientTransport): void {
    if (this.pending?.transport === path) this.pending.settle('refused');
  }

  stop(): void {
    this.stopped = true;
    this.opening?.abort(new Error('client closed'));
    this.pending?.settle('ended');
  }

  private async move(failed: TransportKind, reason: string): Promise<void> {
    this.moving = true;
    try {
      const i = this.order.indexOf(failed);
      const kinds = i < 0 ? [...this.order] : [...this.order.slice(i + 1), ...this.order.slice(0, i + 1)];
      for (let round = 0; round < MAX_ROUNDS && this.alive(); round++) {
        for (const kind of kinds) {
          if (!this.alive()) return;
          const t = await this.open(kind);
          if (!t) continue;
          if (!this.alive()) return t.close();
          const outcome = await this.resumeOn(t, reason);
          if (outcome === 'moved') return;
          t.close();
          if (outcome !== 'ended' && outcome !== 'refused') this.client.noteFailure(kind, `resume on ${kind}: ${outcome}`);
        }
        await new Promise((r) => setTimeout(r, ROUND_PAUSE_MS));
      }
    } finally {
      this.moving = false;
    }
  }

  private alive(): boolean {
    return !this.stopped && !this.client.isEnded && this.endpoint.state === 'connected';
  }

  private async open(kind: TransportKind): Promise<ClientTransport | undefined> {
    let t: ClientTransport;
    try {
      t = this.client.make(kind);
    } catch (e) {
      this.client.noteFailure(kind, (e as Error).message);
      return undefined;
    }
    const ac = new AbortController();
    this.opening = ac;
    const ms = this.client.options.openTimeout;
    const timer = setTimeout(() => ac.abort(new Error(`${kind}: did not open within ${ms} ms`)), ms);
    try {
      await t.open(ac.signal);
      return t;
    } catch (e) {
      t.close();
      if (!this.stopped)
        this.client.noteFailure(
          kind,
          ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason.message : (e as Error).message,
        );
      return undefined;
    } finally {
      clearTimeout(timer);
      this.opening = undefined;
    }
  }

  /** Asks the endpoint to resume the session on `t`; settles with what became of it. */
  private resumeOn(t: ClientTransport, reason: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      const timer = setTimeout(() => settle('timeout'), this.client.options.openTimeout);
      const settle = (o: Outcome): void => {
        if (this.pending !== pending) return;
        clearTimeout(timer);
        this.pending = undefined;
        resolve(o);
      };
      const pending: Pending = { transport: t, reason, settle };
      this.pending = pending;
      this.client.attach(t);
      this.endpoint.addPath(t, t.reliable, performance.now());
      this.client.schedule();
    });
  }
}
