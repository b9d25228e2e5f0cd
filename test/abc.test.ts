/**
 * The A/B/C walkthrough (README.md, docs/protocol.md), checked step by step against the protocol's own trace as
 * `volley scenario abc` reports it.
 */

import { describe, expect, it } from 'vitest';
import { runAbc, type ScenarioEvent } from 'volley';

describe('A/B/C walkthrough', () => {
  const events = runAbc({ latency: 50, gap: 50 });
  const find = (pred: (e: ScenarioEvent) => boolean, after = -1) => {
    const i = events.findIndex((e, k) => k > after && pred(e));
    expect(i, `event not found after #${after}`).toBeGreaterThan(after);
    return i;
  };
  const at = (i: number) => events[i]!;

  it('is in time order and names every event', () => {
    for (let i = 1; i < events.length; i++) expect(events[i]!.t).toBeGreaterThanOrEqual(events[i - 1]!.t);
    for (const e of events) {
      expect(['server', 'client', 'link']).toContain(e.side);
      expect(typeof e.event).toBe('string');
    }
  });

  it('follows the seven steps', () => {
    // 1. A fires → packet 0 carries it.
    const s1 = find((e) => e.side === 'server' && e.event === 'send' && e.shooters?.[0] === 'A');
    expect(at(s1)).toMatchObject({ packet: 0, messages: [0], shooters: ['A'], step: 1 });
    // 2. The client receives packet 0 and acknowledges it.
    const r0 = find((e) => e.side === 'client' && e.event === 'receive' && e.packet === 0, s1);
    const a0 = find((e) => e.side === 'client' && e.event === 'ack' && e.packet === 0, r0);
    expect(at(a0).step).toBe(2);
    // 3. B fires → packet 1 is sent and lost on the way.
    const s3 = find((e) => e.side === 'server' && e.event === 'send' && e.shooters?.[0] === 'B');
    expect(at(s3)).toMatchObject({ packet: 1, messages: [1] });
    const d1 = find((e) => e.side === 'link' && e.event === 'drop' && e.packet === 1, s3);
    expect(at(d1).step).toBe(3);
    // 4. C fires → packet 2 is sent.
    const s4 = find((e) => e.side === 'server' && e.event === 'send' && e.shooters?.[0] === 'C', s3);
    expect(at(s4)).toMatchObject({ packet: 2, messages: [2], step: 4 });
    // 5. The client receives packet 2, sees the gap, buffers C and acknowledges packet 2.
    const r2 = find((e) => e.side === 'client' && e.event === 'receive' && e.packet === 2, s4);
    const b2 = find((e) => e.side === 'client' && e.event === 'buffer' && e.shooter === 'C', r2);
    expect(at(b2)).toMatchObject({ message: 2, waitingFor: 1 });
    const a2 = find((e) => e.side === 'client' && e.event === 'ack' && e.packet === 2, b2);
    expect(at(a2).step).toBe(5);
    expect(events.some((e) => e.side === 'client' && e.event === 'ack' && e.packet === 1)).toBe(
      events.some((e) => e.side === 'link' && e.event === 'pass' && e.packet === 1),
    );
    // 6. No ack for packet 1 in time → B's shot goes out again, in a NEW packet (3), same message id (1).
    const lost = find((e) => e.side === 'server' && e.event === 'lost' && e.packet === 1, a2);
    const rt = find((e) => e.side === 'server' && e.event === 'retransmit' && e.shooter === 'B', lost);
    expect(at(rt)).toMatchObject({ packet: 3, message: 1, previousPacket: 1, step: 6 });
    // 7. The client receives packet 3, acknowledges it, delivers B then C; nothing is left buffered.
    const r3 = find((e) => e.side === 'client' && e.event === 'receive' && e.packet === 3, rt);
    expect(at(r3).messages).toEqual([1]);
    const dB = find((e) => e.side === 'client' && e.event === 'deliver' && e.shooter === 'B', r3);
    const dC = find((e) => e.side === 'client' && e.event === 'deliver' && e.shooter === 'C', dB);
    expect(at(dC).t).toBe(at(dB).t);
    find((e) => e.side === 'client' && e.event === 'ack' && e.packet === 3, r3);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ event: 'done', buffered: 0, step: 7 });
    // A was delivered once, first; each shot exactly once overall.
    const delivered = events.filter((e) => e.event === 'deliver').map((e) => e.shooter);
    expect(delivered).toEqual(['A', 'B', 'C']);
  });

  it("drops nothing but the first transmission of B's packet", () => {
    const drops = events.filter((e) => e.side === 'link' && e.event === 'drop');
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ packet: 1, shooters: ['B'] });
  });
});
