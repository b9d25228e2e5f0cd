import { describe, expect, it } from 'vitest';
import {
  LinkSimulator,
  dropFirstMatching,
  dropIndices,
  type LinkDirection,
  type LinkEvent,
  type LinkOptions,
} from '../src/link-simulator.js';

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values);
const sized = (n: number, tag = 0): Uint8Array => new Uint8Array(n).fill(tag);

/** Sends `count` datagrams every `interval` ms in one direction and collects trace + deliveries. */
function run(options: Omit<LinkOptions, 'trace'>, count: number, interval = 1, direction: LinkDirection = 'a-to-b') {
  const events: LinkEvent[] = [];
  const link = new LinkSimulator({ ...options, trace: (e) => events.push(e) });
  for (let i = 0; i < count; i++) link.send(direction, bytes(i & 0xff, i >> 8), i * interval);
  const delivered = link.deliver(Number.MAX_SAFE_INTEGER);
  return { link, events, delivered, ids: delivered.map((d) => d.datagram[0]! | (d.datagram[1]! << 8)) };
}

const drops = (events: LinkEvent[]) => events.filter((e) => e.type === 'drop');
const passes = (events: LinkEvent[]) => events.flatMap((e) => (e.type === 'pass' ? [e] : []));

describe('LinkSimulator: a perfect link', () => {
  it('delivers immediately, in order, copying the bytes', () => {
    const link = new LinkSimulator({ seed: 1 });
    const data = bytes(1, 2, 3);
    link.send('a-to-b', data, 5);
    link.send('b-to-a', bytes(9), 5);
    data[0] = 99;
    expect(link.inFlight).toBe(2);
    expect(link.nextDeliveryTime()).toBe(5);
    expect(link.deliver(4)).toEqual([]);
    expect(link.deliver(5)).toEqual([
      { direction: 'a-to-b', datagram: bytes(1, 2, 3), time: 5 },
      { direction: 'b-to-a', datagram: bytes(9), time: 5 },
    ]);
    expect(link.inFlight).toBe(0);
    expect(link.nextDeliveryTime()).toBe(Infinity);
    expect(link.stats()['a-to-b']).toEqual({ sent: 1, dropped: 0, duplicated: 0, delivered: 1, bytesSent: 3, bytesDelivered: 3 });
  });

  it('returns a stats snapshot, not live counters', () => {
    const link = new LinkSimulator({ seed: 1 });
    const before = link.stats();
    link.send('a-to-b', bytes(1), 0);
    expect(before['a-to-b'].sent).toBe(0);
    expect(link.stats()['a-to-b'].sent).toBe(1);
  });
});

describe('LinkSimulator: reproducibility', () => {
  const messy: Omit<LinkOptions, 'trace'> = {
    seed: 1234,
    conditions: {
      loss: 0.1,
      burst: { enter: 0.02, exit: 0.3 },
      latency: 40,
      jitter: 15,
      duplicate: 0.05,
      reorder: 0.05,
      bandwidth: 50_000,
    },
  };

  it('gives identical traces and deliveries for the same seed', () => {
    const first = run(messy, 2000);
    const second = run(messy, 2000);
    expect(second.events).toEqual(first.events);
    expect(second.delivered).toEqual(first.delivered);
    expect(run({ ...messy, seed: 1235 }, 2000).events).not.toEqual(first.events);
  });

  it('draws the same randomness per datagram whatever the rules drop', () => {
    const plain = run({ seed: 5, conditions: { loss: 0.2, jitter: 30 } }, 500);
    const ruled = run({ seed: 5, conditions: { loss: 0.2, jitter: 30 }, rules: [dropIndices('a-to-b', [3, 10, 77])] }, 500);
    const others = (events: LinkEvent[]) => events.filter((e) => ![3, 10, 77].includes(e.index));
    expect(others(ruled.events)).toEqual(others(plain.events));
  });
});

describe('LinkSimulator: random impairments', () => {
  it('loses about `loss` of the datagrams', () => {
    const { events, link } = run({ seed: 7, conditions: { loss: 0.1 } }, 20_000);
    const lost = drops(events);
    expect(lost.every((e) => e.reason === 'loss')).toBe(true);
    expect(lost.length / 20_000).toBeGreaterThan(0.09);
    expect(lost.length / 20_000).toBeLessThan(0.11);
    const s = link.stats()['a-to-b'];
    expect(s.sent).toBe(20_000);
    expect(s.dropped).toBe(lost.length);
    expect(s.delivered).toBe(20_000 - lost.length);
  });

  it('Gilbert–Elliott bursts: loss rate enter/(enter+exit), in runs of mean length about 1/exit', () => {
    const { events } = run({ seed: 8, conditions: { burst: { enter: 0.05, exit: 0.25 } } }, 40_000);
    const lost = new Set(drops(events).map((e) => e.index));
    expect(drops(events).every((e) => e.reason === 'burst')).toBe(true);
    expect(lost.size / 40_000).toBeGreaterThan(0.14); // stationary 1/6 ≈ 0.167
    expect(lost.size / 40_000).toBeLessThan(0.2);
    let runs = 0;
    for (const i of lost) if (!lost.has(i - 1)) runs++;
    expect(lost.size / runs).toBeGreaterThan(3.5); // 1/exit = 4; independent loss would give ≈ 1.2
    expect(lost.size / runs).toBeLessThan(4.5);
  });

  it('burst.loss < 1 loses only that share while in the bad state', () => {
    const { events } = run({ seed: 8, conditions: { burst: { enter: 1, exit: 0, loss: 0.5 } } }, 10_000);
    expect(drops(events).length / 10_000).toBeGreaterThan(0.47);
    expect(drops(events).length / 10_000).toBeLessThan(0.53);
  });

  it('delays every datagram by latency plus [0, jitter)', () => {
    const { events, delivered } = run({ seed: 9, conditions: { latency: 50, jitter: 20 } }, 5000, 10);
    const delays = passes(events).map((e) => e.deliverAt - e.time);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(50);
    expect(Math.min(...delays)).toBeLessThan(51);
    expect(Math.max(...delays)).toBeLessThan(70);
    expect(Math.max(...delays)).toBeGreaterThan(69);
    expect(delivered.map((d) => d.time)).toEqual([...delivered.map((d) => d.time)].sort((x, y) => x - y));
  });

  it('duplicates: each duplicated datagram arrives twice, as separate buffers', () => {
    const { events, delivered, link } = run({ seed: 10, conditions: { duplicate: 1, jitter: 5 } }, 100);
    expect(delivered).toHaveLength(200);
    for (let i = 0; i < 100; i++) {
      const copies = delivered.filter((d) => d.datagram[0] === i);
      expect(copies).toHaveLength(2);
      expect(copies[0]!.datagram).not.toBe(copies[1]!.datagram);
    }
    expect(passes(events).filter((e) => e.duplicate)).toHaveLength(100);
    expect(link.stats()['a-to-b']).toMatchObject({ sent: 100, duplicated: 100, delivered: 200, bytesSent: 200, bytesDelivered: 400 });

    const some = run({ seed: 10, conditions: { duplicate: 0.3 } }, 10_000);
    expect(some.delivered.length / 10_000).toBeGreaterThan(1.28);
    expect(some.delivered.length / 10_000).toBeLessThan(1.32);
  });

  it('reorder holds datagrams back by reorderDelay so later ones overtake them', () => {
    const { events, ids } = run({ seed: 11, conditions: { latency: 20, reorder: 0.1 } }, 1000);
    const held = passes(events).filter((e) => e.reordered);
    expect(held.length).toBeGreaterThan(50);
    for (const e of held) expect(e.deliverAt - e.time).toBe(20 + 10); // default max(10, 2·0, 20/2)
    const overtaken = ids.filter((id, k) => k > 0 && id < ids[k - 1]!).length;
    expect(overtaken).toBeGreaterThan(50);
    expect(ids.slice().sort((x, y) => x - y)).toEqual([...Array(1000).keys()]);

    const custom = run({ seed: 11, conditions: { latency: 20, reorder: 1, reorderDelay: 7 } }, 10);
    for (const e of passes(custom.events)) expect(e.deliverAt - e.time).toBe(27);
    expect(custom.ids).toEqual([...Array(10).keys()]); // everyone held back equally: no overtaking
  });

  it('applies per-direction overrides over the shared conditions', () => {
    const link = new LinkSimulator({ seed: 1, conditions: { latency: 10, loss: 0 }, aToB: { latency: 50 }, bToA: { loss: 1 } });
    link.send('a-to-b', bytes(1), 0);
    link.send('b-to-a', bytes(2), 0);
    expect(link.deliver(100)).toEqual([{ direction: 'a-to-b', datagram: bytes(1), time: 50 }]);
    expect(link.stats()['b-to-a'].dropped).toBe(1);
  });
});

describe('LinkSimulator: bandwidth cap', () => {
  it('serializes datagrams: arrivals spaced by size/bandwidth, then an idle link starts fresh', () => {
    const link = new LinkSimulator({ seed: 1, conditions: { latency: 20, bandwidth: 10_000 } }); // 10 bytes/ms
    for (let i = 0; i < 5; i++) link.send('a-to-b', sized(100, i), 0);
    link.send('b-to-a', sized(100), 0); // the other direction has its own bottleneck
    expect(link.deliver(1000).map((d) => [d.direction, d.time])).toEqual([
      ['a-to-b', 30],
      ['b-to-a', 30],
      ['a-to-b', 40],
      ['a-to-b', 50],
      ['a-to-b', 60],
      ['a-to-b', 70],
    ]);
    link.send('a-to-b', sized(50), 2000);
    expect(link.deliver(3000).map((d) => d.time)).toEqual([2025]);
  });

  it('tail-drops past queueLimit and accepts again as the queue drains', () => {
    const { events, link } = run({ seed: 1, conditions: { bandwidth: 1000, queueLimit: 250 } }, 0);
    const trace = events;
    for (let i = 0; i < 10; i++) link.send('a-to-b', sized(100, i), 0);
    expect(drops(trace).map((e) => [e.index, e.reason])).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => [i, 'queue']));
    link.send('a-to-b', sized(100, 10), 150); // 50 bytes left + 100 ≤ 250
    link.send('a-to-b', sized(100, 11), 150); // 150 + 100 = 250: exactly fits
    link.send('a-to-b', sized(1, 12), 150); // 250 + 1 > 250
    expect(link.deliver(1000).map((d) => [d.datagram[0], d.time])).toEqual([
      [0, 100],
      [1, 200],
      [10, 300],
      [11, 400],
    ]);
    expect(drops(trace).at(-1)).toMatchObject({ index: 12, reason: 'queue', size: 1 });
    expect(link.stats()['a-to-b']).toMatchObject({ sent: 13, dropped: 9, delivered: 4 });
  });

  it('defaults queueLimit to 64 KiB', () => {
    const { events } = run({ seed: 1, conditions: { bandwidth: 1000 } }, 0);
    const link = new LinkSimulator({ seed: 1, conditions: { bandwidth: 1000 }, trace: (e) => events.push(e) });
    for (let i = 0; i < 1000; i++) link.send('a-to-b', sized(100), 0);
    expect(passes(events)).toHaveLength(655); // accepted while the 100·k bytes queued + 100 ≤ 65536: k = 0..654
  });
});

describe('LinkSimulator: scripted rules', () => {
  it('dropFirstMatching drops only the first match by default, then `count` matches', () => {
    const first = run({ seed: 1, rules: [dropFirstMatching((d) => d.bytes[0]! % 10 === 3)] }, 50);
    expect(drops(first.events).map((e) => [e.index, e.reason])).toEqual([[3, 'rule']]);
    const three = run({ seed: 1, rules: [dropFirstMatching((d) => d.bytes[0]! % 10 === 3, 3)] }, 50);
    expect(drops(three.events).map((e) => e.index)).toEqual([3, 13, 23]);
    expect(run({ seed: 1, rules: [dropFirstMatching(() => true, 0)] }, 5).delivered).toHaveLength(5);
    expect(() => dropFirstMatching(() => true, -1)).toThrow(RangeError);
  });

  it('dropIndices drops by per-direction index, in that direction only', () => {
    const link = new LinkSimulator({ seed: 1, rules: [dropIndices('b-to-a', [0, 2])] });
    for (let i = 0; i < 4; i++) {
      link.send('a-to-b', bytes(i), i);
      link.send('b-to-a', bytes(i), i);
    }
    const got = link.deliver(10);
    expect(got.filter((d) => d.direction === 'a-to-b').map((d) => d.datagram[0])).toEqual([0, 1, 2, 3]);
    expect(got.filter((d) => d.direction === 'b-to-a').map((d) => d.datagram[0])).toEqual([1, 3]);
  });

  it('rules run first, in order, and see direction, index, bytes and time', () => {
    const seen: Array<[string, number, number, number]> = [];
    const { events } = run(
      {
        seed: 1,
        conditions: { loss: 1 },
        rules: [(d) => d.index === 1, (d) => (seen.push([d.direction, d.index, d.bytes[0]!, d.time]), false)],
      },
      3,
      5,
    );
    expect(drops(events).map((e) => e.reason)).toEqual(['loss', 'rule', 'loss']);
    expect(seen).toEqual([
      ['a-to-b', 0, 0, 0],
      ['a-to-b', 2, 2, 10],
    ]);
  });
});

describe('LinkSimulator: trace, validation, scale', () => {
  it('traces drops and passes with sizes and times', () => {
    const events: LinkEvent[] = [];
    const link = new LinkSimulator({
      seed: 3,
      conditions: { latency: 15 },
      rules: [dropIndices('a-to-b', [0])],
      trace: (e) => events.push(e),
    });
    link.send('a-to-b', sized(7), 100);
    link.send('a-to-b', sized(9), 101);
    expect(events).toEqual([
      { type: 'drop', reason: 'rule', direction: 'a-to-b', index: 0, time: 100, size: 7 },
      { type: 'pass', direction: 'a-to-b', index: 1, time: 101, size: 9, deliverAt: 116, duplicate: false, reordered: false },
    ]);
  });

  it('rejects bad options with a RangeError naming the field', () => {
    const bad: Array<[Partial<LinkOptions>, RegExp]> = [
      [{ conditions: { loss: 1.5 } }, /conditions\.loss/],
      [{ conditions: { duplicate: -0.1 } }, /conditions\.duplicate/],
      [{ aToB: { reorder: Number.NaN } }, /aToB\.reorder/],
      [{ bToA: { burst: { enter: 2, exit: 0.5 } } }, /bToA\.burst\.enter/],
      [{ conditions: { burst: { enter: 0.1, exit: 0.5, loss: 3 } } }, /conditions\.burst\.loss/],
      [{ conditions: { latency: -1 } }, /conditions\.latency/],
      [{ conditions: { jitter: Number.NaN } }, /conditions\.jitter/],
      [{ aToB: { reorderDelay: -5 } }, /aToB\.reorderDelay/],
      [{ conditions: { bandwidth: Infinity } }, /conditions\.bandwidth/],
      [{ conditions: { queueLimit: -1 } }, /conditions\.queueLimit/],
      [{ seed: 0.5 }, /seed/],
    ];
    for (const [options, message] of bad) expect(() => new LinkSimulator({ seed: 1, ...options })).toThrow(message);
    expect(() => new LinkSimulator({ seed: 1, conditions: { queueLimit: Infinity, bandwidth: 0 } })).not.toThrow();
    const link = new LinkSimulator({ seed: 1 });
    expect(() => link.send('a-to-b', bytes(1), Number.NaN)).toThrow(RangeError);
    expect(() => link.deliver(Number.NaN)).toThrow(RangeError);
    expect(() => link.send('a-to-b', bytes(1), Infinity)).toThrow(RangeError);
    expect(() => link.send('sideways' as LinkDirection, bytes(1), 0)).toThrow(/direction/);
  });

  it('keeps 100k datagrams in flight and delivers them in arrival order', () => {
    const link = new LinkSimulator({ seed: 12, conditions: { latency: 100, jitter: 1000 } });
    for (let i = 0; i < 100_000; i++) link.send(i % 2 ? 'a-to-b' : 'b-to-a', bytes(i & 0xff), i / 100);
    expect(link.inFlight).toBe(100_000);
    const got = [...link.deliver(600), ...link.deliver(Infinity)];
    expect(got).toHaveLength(100_000);
    expect(link.inFlight).toBe(0);
    let outOfOrder = 0;
    for (let k = 1; k < got.length; k++) if (got[k]!.time < got[k - 1]!.time) outOfOrder++;
    expect(outOfOrder).toBe(0);
  });

  it('breaks ties by send order, including a duplicate after its original', () => {
    const link = new LinkSimulator({ seed: 1, conditions: { latency: 10 }, aToB: { duplicate: 1 } });
    link.send('a-to-b', bytes(1), 0);
    link.send('b-to-a', bytes(2), 0);
    link.send('a-to-b', bytes(3), 0);
    expect(link.deliver(10).map((d) => d.datagram[0])).toEqual([1, 1, 2, 3, 3]);
  });
});
