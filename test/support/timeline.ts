/**
 * What happened during one lifecycle test, with times relative to its start: the end of a session as each
 * side reported it (server onDisconnect, client 'disconnect'), plus marks (kill, cut, …) and notes
 * (transport moves, child output), so a failing assertion can say exactly what was seen and when.
 */

import { reasonName } from '@volley/protocol';

export type Side = 'server' | 'client';

export interface EndEvent {
  side: Side;
  /** Which client or session, e.g. 'client#2' or 'session 123'. */
  who: string;
  reason: number;
  text: string;
  at: number;
}

interface Entry {
  at: number;
  line: string;
}

export class Timeline {
  readonly start = performance.now();
  readonly ends: EndEvent[] = [];
  private readonly entries: Entry[] = [];

  constructor(readonly title: string) {}

  /** Records a point in time (e.g. 'SIGKILL client') and returns it (a performance.now() value). */
  mark(label: string): number {
    const at = performance.now();
    this.entries.push({ at, line: `--- ${label}` });
    return at;
  }

  note(line: string): void {
    this.entries.push({ at: performance.now(), line });
  }

  /** A side reported the end of a session. */
  end(side: Side, who: string, reason: number, text: string): void {
    const at = performance.now();
    this.ends.push({ side, who, reason, text, at });
    const what = side === 'server' ? 'server onDisconnect' : `${who} 'disconnect'`;
    this.entries.push({ at, line: `${what} ${reasonName(reason)} ${JSON.stringify(text)}${side === 'server' ? ` (${who})` : ''}` });
  }

  endsOf(side: Side, who?: string): EndEvent[] {
    return this.ends.filter((e) => e.side === side && (who === undefined || e.who === who));
  }

  /** Milliseconds since the test started, for messages. */
  rel(at: number): string {
    return `+${Math.round(at - this.start)} ms`;
  }

  /** Everything recorded, one line each, in time order. */
  describe(): string {
    if (this.entries.length === 0) return '  (nothing recorded)';
    return [...this.entries]
      .sort((a, b) => a.at - b.at)
      .map((e) => `  ${this.rel(e.at).padStart(9)}  ${e.line}`)
      .join('\n');
  }
}
