/**
 * Prediction with reconciliation, against a server that runs the same step: whatever inputs, whatever the
 * server has acknowledged and in what batches, the prediction equals the server's state with the
 * unacknowledged inputs applied, and a server that agrees causes no correction. A server that disagrees (a
 * wall the client did not know about) is the authority, and the correction is measured.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Predictor } from '../src/index.js';

interface P {
  x: number;
  y: number;
}
type Move = { dx: number; dy: number };
const step = (s: P, m: Move): P => ({ x: s.x + m.dx, y: s.y + m.dy });
const distance = (a: P, b: P) => Math.hypot(a.x - b.x, a.y - b.y);

describe('Predictor', () => {
  it('equals the server state plus the unacknowledged inputs, and agrees with an honest server (no correction)', () => {
    const move = fc.record({ dx: fc.integer({ min: -5, max: 5 }), dy: fc.integer({ min: -5, max: 5 }) });
    fc.assert(
      fc.property(fc.array(move, { maxLength: 100 }), fc.array(fc.nat({ max: 10 }), { maxLength: 40 }), (moves, batches) => {
        const p = new Predictor<P, Move>({ x: 0, y: 0 }, { apply: step, error: distance });
        let server: P = { x: 0, y: 0 };
        let applied = 0; // inputs the server has applied
        const sent: Move[] = [];
        let b = 0;
        for (const m of moves) {
          p.input(m);
          sent.push(m);
          // Now and then the server applies what arrived and its state comes back.
          const n = batches[b++ % Math.max(1, batches.length)] ?? 0;
          for (let i = 0; i < n && applied < sent.length; i++) server = step(server, sent[applied++]!);
          if (n > 0) expect(p.reconcile(server, applied)).toBe(0);
          let expected = server;
          for (const r of sent.slice(applied)) expected = step(expected, r);
          expect(p.state).toEqual(expected);
          expect(p.stats.pending).toBe(sent.length - applied);
        }
        expect(p.stats.corrections).toBe(0);
        expect(p.lastSeq).toBe(moves.length);
      }),
    );
  });

  it('takes the server as the authority when it disagrees, replays what it has not seen, and measures the correction', () => {
    const p = new Predictor<P, Move>({ x: 0, y: 0 }, { apply: step, error: distance });
    for (let i = 0; i < 5; i++) p.input({ dx: 1, dy: 0 });
    expect(p.state).toEqual({ x: 5, y: 0 });
    // The server stopped the player at x = 2 (a wall) after the first three inputs.
    const error = p.reconcile({ x: 2, y: 0 }, 3);
    expect(p.state).toEqual({ x: 4, y: 0 }); // 2 + the two inputs it has not applied
    expect(error).toBe(1);
    expect(p.stats).toMatchObject({ pending: 2, corrections: 1, lastError: 1, maxError: 1 });
  });

  it('with prediction off shows the server state alone; past maxPending it forgets the oldest input', () => {
    const p = new Predictor<P, Move>({ x: 0, y: 0 }, { apply: step, maxPending: 3 });
    p.enabled = false;
    for (let i = 0; i < 5; i++) p.input({ dx: 1, dy: 0 });
    expect(p.state).toEqual({ x: 0, y: 0 });
    expect(p.stats).toMatchObject({ pending: 3, dropped: 2 });
    p.reconcile({ x: 1, y: 0 }, 1);
    expect(p.state).toEqual({ x: 1, y: 0 });
    p.enabled = true;
    expect(p.state).toEqual({ x: 4, y: 0 }); // 1 + inputs 3, 4, 5 (2 was forgotten)
    expect(() => new Predictor({}, { apply: (s) => s, maxPending: 0 })).toThrow(RangeError);
    // Numbers of the caller's (an InputSender's): increasing, else refused.
    const q = new Predictor<P, Move>({ x: 0, y: 0 }, { apply: step });
    expect(q.input({ dx: 1, dy: 0 }, 7)).toBe(7);
    expect(() => q.input({ dx: 1, dy: 0 }, 7)).toThrow(RangeError);
    expect(q.input({ dx: 1, dy: 0 })).toBe(8);
  });
});
