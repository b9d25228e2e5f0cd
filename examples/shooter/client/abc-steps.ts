// The seven steps of the A/B/C demo, recognised in what this page's session really did: its packet
// timeline (the protocol's own trace) and what the link conditioner saw (which packet carried whose shot,
// and the one it dropped). Nothing here is scripted on the page: a step is marked when its event happens.
//
//   1. A's shot arrives in a packet and is shown at once.
//   2. The browser acknowledges that packet.
//   3. The packet carrying B's shot is lost on the way.
//   4. C's shot arrives, in a later packet.
//   5. C's shot is held back: B's comes first. The browser acknowledges C's packet.
//   6. The server, seeing packets after B's acknowledged but not B's, sends B's shot again in a new packet,
//      with the same message id.
//   7. B's shot is delivered, then C's at once, in the order they were fired; nothing is left held back.
import type { ConditionerEvent, TimelineEntry } from '@volley/devtools';
import type { ShotEvent } from '../game/messages.js';

export type StepNumber = 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface AbcStep {
  n: StepNumber;
  /** When it happened (ms, the session's clock). */
  t: number;
  /** One line, in plain words, with the real packet and message numbers. */
  text: string;
}

/** A message by its channel and id. */
interface Ref {
  channel: number;
  id: number;
}

const same = (a: Ref | undefined, channel: number | undefined, id: number | undefined) =>
  a !== undefined && a.channel === channel && a.id === id;

export const STEP_TITLES: Record<StepNumber, string> = {
  1: "A fires: A's shot arrives and is shown at once",
  2: 'Your browser acknowledges the packet that carried it',
  3: "B fires: the packet carrying B's shot is lost",
  4: "C fires: C's shot arrives first",
  5: "C's shot is held back, waiting for B's",
  6: "B's shot is sent again, in a new packet",
  7: 'B, then C: delivered in order, nothing left waiting',
};

export class AbcSteps {
  readonly steps = new Map<StepNumber, AbcStep>();
  private readonly shots: Partial<Record<'A' | 'B' | 'C', Ref>> = {};
  private packetA: number | undefined;
  private packetB: number | undefined;
  private packetC: number | undefined;
  private cHeld = false;
  private bDelivered = false;

  /**
   * `names`: the session ids of A, B and C. `held`: how many messages the session holds back now (the
   * timeline's `held`). `onStep` hears each step as it is marked.
   */
  constructor(
    private readonly names: { A: string; B: string; C: string },
    private readonly held: () => number,
    private readonly onStep: (step: AbcStep) => void = () => {},
  ) {}

  get done(): boolean {
    return this.steps.size === 7;
  }

  /** What the link conditioner saw: which message is whose shot, and the dropped packet. */
  link(e: ConditionerEvent): void {
    if (e.direction !== 'down') return;
    for (const m of e.messages) {
      if (m.type !== 'shot' || m.id === undefined) continue;
      const shooter = this.shooterOf((m.value() as ShotEvent | undefined)?.shooter);
      if (!shooter || this.shots[shooter]) continue;
      this.shots[shooter] = { channel: m.channel, id: m.id };
      if (shooter === 'B' && e.type === 'drop' && e.seq !== undefined) {
        this.packetB = e.seq;
        this.mark(3, e.time, `Packet #${e.seq} carried B's shot (message ${m.id}). It never arrives: the link dropped it on the way.`);
      }
    }
  }

  /** What the session did (the packet timeline's entries). */
  entry(e: TimelineEntry): void {
    const { A, B, C } = this.shots;
    switch (e.kind) {
      case 'received':
        for (const m of e.messages ?? []) {
          if (same(A, m.channel, m.id) && this.packetA === undefined) this.packetA = e.seq;
          if (same(C, m.channel, m.id) && this.packetC === undefined) {
            this.packetC = e.seq;
            this.mark(4, e.t, `Packet #${e.seq} arrives with C's shot (message ${m.id}), before B's, which is missing.`);
          }
          if (same(B, m.channel, m.id) && this.packetB !== undefined && e.seq !== this.packetB) {
            this.mark(
              6,
              e.t,
              `Packet #${e.seq} arrives with B's shot: the same message ${m.id}, in a new packet. The server had seen packets ` +
                `after #${this.packetB} acknowledged but not #${this.packetB}, took it as lost, and sent what it carried again.`,
            );
          }
        }
        return;
      case 'delivered':
        if (same(A, e.channel, e.id) && this.packetA !== undefined) {
          this.mark(1, e.t, `Packet #${this.packetA} brings A's shot (message ${e.id}); the game shows it at once.`);
        }
        if (same(B, e.channel, e.id)) this.bDelivered = true;
        if (same(C, e.channel, e.id) && this.bDelivered && this.steps.has(6)) {
          const left = this.held();
          if (left === 0)
            this.mark(
              7,
              e.t,
              `B's shot (message ${B!.id}) is delivered, then C's (message ${e.id}) right after: the order they were fired in. Nothing is left held back.`,
            );
        }
        return;
      case 'buffered':
        if (same(C, e.channel, e.id) && B && e.waitingFor === B.id) this.cHeld = true;
        return;
      case 'sent':
        for (const acked of e.acks ?? []) {
          if (acked === this.packetA) {
            this.mark(
              2,
              e.t,
              `Your browser's packet #${e.seq} acknowledges #${acked}: the server knows A's shot arrived and will not send it again.`,
            );
          }
          if (acked === this.packetC && this.cHeld) {
            this.mark(
              5,
              e.t,
              `C's shot (message ${C!.id}) is held back: message ${B!.id}, B's, must come first. Packet #${e.seq} acknowledges #${acked}, ` +
                `so the server learns that a later packet arrived while #${this.packetB} did not.`,
            );
          }
        }
        return;
      default:
        return;
    }
  }

  /** Whether a timeline entry is part of the story (the three shots, their packets and acknowledgements). */
  relevant(e: TimelineEntry): boolean {
    const refs = [this.shots.A, this.shots.B, this.shots.C];
    const mine = (channel: number | undefined, id: number | undefined) => refs.some((r) => same(r, channel, id));
    const packets = [this.packetA, this.packetB, this.packetC];
    switch (e.kind) {
      case 'received':
      case 'link-drop':
        return (e.messages ?? []).some((m) => mine(m.channel, m.id));
      case 'sent':
        return (e.acks ?? []).some((a) => packets.includes(a));
      case 'buffered':
      case 'delivered':
      case 'duplicate':
        return mine(e.channel, e.id);
      default:
        return false;
    }
  }

  private shooterOf(id: string | undefined): 'A' | 'B' | 'C' | undefined {
    if (id === this.names.A) return 'A';
    if (id === this.names.B) return 'B';
    if (id === this.names.C) return 'C';
    return undefined;
  }

  private mark(n: StepNumber, t: number, text: string): void {
    if (this.steps.has(n)) return;
    const step = { n, t, text };
    this.steps.set(n, step);
    this.onStep(step);
  }
}
