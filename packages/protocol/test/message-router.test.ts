import { describe, expect, it } from 'vitest';
import { MessageRouter } from '../src/index.js';

describe('MessageRouter', () => {
  it("calls a type's handlers, else the catch-all ones, else counts (first-unhandled once per type)", () => {
    const r = new MessageRouter<(d: number) => void, (t: string, d: number) => void>();
    const got: string[] = [];
    const off = r.on('a', (d) => got.push(`a1:${d}`));
    r.on('a', (d) => got.push(`a2:${d}`));
    expect(
      r.route(
        'a',
        (h) => h(1),
        () => {},
      ),
    ).toBe('handled');
    off();
    r.route(
      'a',
      (h) => h(2),
      () => {},
    );
    expect(
      r.route(
        'b',
        () => {},
        () => {},
      ),
    ).toBe('first-unhandled');
    expect(
      r.route(
        'b',
        () => {},
        () => {},
      ),
    ).toBe('unhandled');
    const offAny = r.onAny((t, d) => got.push(`any:${t}:${d}`));
    expect(
      r.route(
        'b',
        () => {},
        (h) => h('b', 3),
      ),
    ).toBe('handled');
    offAny();
    expect(
      r.route(
        'c',
        () => {},
        () => {},
      ),
    ).toBe('first-unhandled');
    expect(got).toEqual(['a1:1', 'a2:1', 'a2:2', 'any:b:3']);
    expect(Object.fromEntries(r.unhandled)).toEqual({ b: 2, c: 1 });
  });

  it('lets a handler unsubscribe itself while the message is being handled', () => {
    const r = new MessageRouter<() => void, () => void>();
    const calls: string[] = [];
    const off = r.on('x', () => {
      calls.push('first');
      off();
    });
    r.on('x', () => calls.push('second'));
    r.route(
      'x',
      (h) => h(),
      () => {},
    );
    r.route(
      'x',
      (h) => h(),
      () => {},
    );
    expect(calls).toEqual(['first', 'second', 'second']);
  });
});
