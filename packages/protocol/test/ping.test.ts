import { describe, expect, it } from 'vitest';
import { PingResponder, PingTracker, type Ping, type Pong } from '../src/ping.js';

/** A scripted link: the peer's clock runs `offset` ms ahead; one-way delays `up`/`down`; peer answers after `proc`. */
interface Link {
  offset: number;
  up: number;
  down: number;
  proc: number;
}
const SYMMETRIC: Link = { offset: 0, up: 20, down: 20, proc: 0 };

/** Polls one ping at `now`, delivers it (unless dropUp) and its pong (unless dropDown). Returns the rtt sample. */
function exchange(
  tracker: PingTracker,
  responder: PingResponder,
  now: number,
  link: Link,
  dropUp = false,
  dropDown = false,
): number | undefined {
  const ping = tracker.poll(now);
  if (!ping) throw new Error(`no ping due at ${now}`);
  if (dropUp) return undefined;
  const arrive = now + link.up + link.offset;
  const pong = responder.onPing(ping, arrive);
  pong.sentAt = arrive + link.proc;
  if (dropDown) return undefined;
  return tracker.onPong(pong, now + link.up + link.proc + link.down);
}

describe('PingResponder', () => {
  it('counts pings and echoes their seq', () => {
    const r = new PingResponder();
    expect(r.received).toBe(0);
    expect(r.onPing({ seq: 65535, sentAt: 12.5 }, 99)).toEqual({
      seq: 65535,
      pingsReceived: 1,
      receivedAt: 99,
      sentAt: 99,
    });
    expect(r.onPing({ seq: 0, sentAt: 13 }, 100).pingsReceived).toBe(2);
    expect(r.received).toBe(2);
  });
});

describe('PingTracker scheduling', () => {
  it('sends the first ping at the first poll, then every interval', () => {
    const t = new PingTracker({ interval: 100 });
    expect(t.nextPingTime()).toBe(-Infinity);
    expect(t.poll(1000)).toEqual({ seq: 0, sentAt: 1000 });
    expect(t.nextPingTime()).toBe(1100);
    expect(t.poll(1099)).toBeUndefined();
    expect(t.poll(1130)).toEqual({ seq: 1, sentAt: 1130 });
    expect(t.nextPingTime()).toBe(1230);
    expect(t.stats(1130).sent).toBe(2);
  });

  it('is disabled with interval 0', () => {
    const t = new PingTracker({ interval: 0 });
    expect(t.nextPingTime()).toBe(Infinity);
    expect(t.poll(0)).toBeUndefined();
    expect(t.poll(1e9)).toBeUndefined();
    expect(t.stats(0)).toEqual({
      sent: 0,
      received: 0,
      rtt: undefined,
      jitter: 0,
      lossUp: 0,
      lossDown: 0,
      clockOffset: undefined,
      clockSamples: 0,
    });
    expect(t.peerTime(5)).toBe(5);
  });

  it('rejects a bad window size', () => {
    expect(() => new PingTracker({ interval: 10, window: 1 })).toThrow(RangeError);
    expect(() => new PingTracker({ interval: 10, window: 40000 })).toThrow(RangeError);
  });
});

describe('PingTracker round trips and clock offset', () => {
  it('computes rtt NTP style, excluding the peer processing time', () => {
    const t = new PingTracker({ interval: 100 });
    const r = new PingResponder();
    expect(exchange(t, r, 0, { offset: 500, up: 30, down: 15, proc: 5 })).toBe(45);
    const s = t.stats(50);
    expect(s).toMatchObject({ sent: 1, received: 1, jitter: 0 });
    expect(s.rtt).toMatchObject({ count: 1, last: 45 });
    // ((530 - 0) + (535 - 50)) / 2 = 507.5: off by (30 - 15) / 2, half the asymmetry.
    expect(s.clockOffset).toBe(507.5);
    expect(t.peerTime(100)).toBe(607.5);
  });

  it('keeps the offset error within half the asymmetry and prefers the lowest-rtt sample', () => {
    const offset = -123_456.25;
    const t = new PingTracker({ interval: 100 });
    const r = new PingResponder();
    const links: Array<[number, number]> = [
      [80, 10],
      [25, 25],
      [10, 90],
      [60, 40],
    ];
    links.forEach(([up, down], i) => {
      exchange(t, r, i * 100, { offset, up, down, proc: 3 });
      const est = t.stats(i * 100 + 99).clockOffset!;
      expect(Math.abs(est - offset)).toBeLessThanOrEqual(Math.abs(up - down) / 2);
    });
    // The symmetric 50 ms round trip wins the clock filter: exact offset.
    expect(t.stats(400).clockOffset).toBe(offset);
    expect(t.peerTime(1000)).toBe(1000 + offset);
  });

  it('estimates jitter per RFC 3550 over consecutive round trips', () => {
    const t = new PingTracker({ interval: 100 });
    const r = new PingResponder();
    exchange(t, r, 0, { ...SYMMETRIC, up: 20, down: 20 }); // 40
    exchange(t, r, 100, { ...SYMMETRIC, up: 25, down: 25 }); // 50
    expect(t.stats(200).jitter).toBe(10 / 16);
    exchange(t, r, 200, { ...SYMMETRIC, up: 20, down: 25 }); // 45
    expect(t.stats(300).jitter).toBe(10 / 16 + (5 - 10 / 16) / 16);
    expect(t.stats(300).rtt).toMatchObject({ count: 3, min: 40, max: 50, avg: 45, last: 45 });
  });

  it('handles seq wrap across 65535 -> 0', () => {
    const t = new PingTracker({ interval: 1, window: 8 });
    const r = new PingResponder();
    for (let now = 0; now < 65530; now++) t.poll(now); // never answered
    const seqs: number[] = [];
    for (let now = 65530; now < 65545; now++) {
      const ping = t.poll(now)!;
      seqs.push(ping.seq);
      const pong = r.onPing(ping, now);
      expect(t.onPong(pong, now + 0.5)).toBe(0.5);
    }
    expect(seqs.slice(4, 8)).toEqual([65534, 65535, 0, 1]);
    const s = t.stats(65545);
    expect(s).toMatchObject({ sent: 65545, received: 15, lossUp: 0, lossDown: 0 });
    // Ping 65535 is long out of the 8-ping window now.
    expect(t.onPong({ seq: 65535, pingsReceived: 99, receivedAt: 1, sentAt: 1 }, 65546)).toBeUndefined();
  });
});

describe('PingTracker loss each way', () => {
  it('splits loss into up and down from the peer counters', () => {
    const t = new PingTracker({ interval: 100, window: 32 });
    const r = new PingResponder();
    const dropUp = new Set([3, 7, 11]);
    const dropDown = new Set([5, 12]);
    for (let i = 0; i < 20; i++) exchange(t, r, i * 100, SYMMETRIC, dropUp.has(i), dropDown.has(i));
    let s = t.stats(2000);
    expect(s.sent).toBe(20);
    expect(s.received).toBe(15);
    expect(r.received).toBe(17);
    // Pings 0..19: 19 sent after ping 0, 16 reached the peer (R 1 -> 17), 14 pongs back.
    expect(s.lossUp).toBeCloseTo(3 / 19, 12);
    expect(s.lossDown).toBeCloseTo(2 / 16, 12);

    // Five more pings vanish: counted lost (upstream, provisionally) only after the timeout (default 2000 ms).
    for (let i = 20; i < 25; i++) exchange(t, r, i * 100, SYMMETRIC, true);
    expect(t.stats(2500).lossUp).toBeCloseTo(3 / 19, 12);
    s = t.stats(2400 + 2000);
    expect(s.lossUp).toBeCloseTo(8 / 24, 12);
    expect(s.lossDown).toBeCloseTo(2 / 16, 12);

    // The next pong's counter (18) shows those five were lost upstream indeed.
    exchange(t, r, 4500, SYMMETRIC);
    s = t.stats(4600);
    expect(s.lossUp).toBeCloseTo(8 / 25, 12);
    expect(s.lossDown).toBeCloseTo(2 / 17, 12);
  });

  it('charges a silent peer after the timeout and forgets outside the window', () => {
    const t = new PingTracker({ interval: 100, window: 4, timeout: 300 });
    const r = new PingResponder();
    for (let i = 0; i < 4; i++) exchange(t, r, i * 100, SYMMETRIC, i === 1);
    expect(t.stats(400).lossUp).toBeCloseTo(1 / 3, 12);
    expect(t.stats(400).lossDown).toBe(0);
    for (let i = 4; i < 8; i++) exchange(t, r, i * 100, SYMMETRIC, true);
    expect(t.stats(699)).toMatchObject({ lossUp: 0, lossDown: 0 }); // window 4..7: nothing timed out yet
    expect(t.stats(799)).toMatchObject({ lossUp: 1, lossDown: 0 }); // ping 4 timed out, nothing answered
    expect(t.stats(750).clockOffset).toBe(0); // the last known offset survives the window
    for (let i = 8; i < 12; i++) exchange(t, r, i * 100, SYMMETRIC, false, i === 9 || i === 10);
    // Window 8..11: peer counter 4 -> 7 over 3 pings, one of those 3 pongs came back.
    const s = t.stats(1200);
    expect(s.lossUp).toBe(0);
    expect(s.lossDown).toBeCloseTo(2 / 3, 12);
  });

  it('accepts a late pong inside the window and revises the count', () => {
    const t = new PingTracker({ interval: 100, timeout: 200 });
    const r = new PingResponder();
    const pings: Ping[] = [];
    for (let i = 0; i < 3; i++) pings.push(t.poll(i * 100)!);
    const pongs = pings.map((p) => r.onPing(p, p.sentAt + 10));
    t.onPong(pongs[0]!, 20);
    t.onPong(pongs[2]!, 220);
    expect(t.stats(300)).toMatchObject({ lossUp: 0, lossDown: 0.5 });
    expect(t.onPong(pongs[1]!, 900)).toBe(800);
    expect(t.stats(900)).toMatchObject({ lossUp: 0, lossDown: 0 });
  });

  it('subtracts pingsReceived modulo 2^32 and clamps impossible counts', () => {
    const t = new PingTracker({ interval: 100 });
    for (let i = 0; i < 3; i++) t.poll(i * 100);
    const pong = (seq: number, pingsReceived: number): Pong => ({
      seq,
      pingsReceived,
      receivedAt: seq * 100 + 5,
      sentAt: seq * 100 + 5,
    });
    expect(t.onPong(pong(0, 0xffffffff), 10)).toBe(10);
    expect(t.onPong(pong(2, 1), 210)).toBe(10);
    expect(t.stats(300)).toMatchObject({ lossUp: 0, lossDown: 0.5 });

    const liar = new PingTracker({ interval: 100 });
    for (let i = 0; i < 3; i++) liar.poll(i * 100);
    liar.onPong(pong(0, 50), 10);
    liar.onPong(pong(2, 10), 210); // counter went backwards
    let s = liar.stats(300);
    expect([s.lossUp, s.lossDown]).toEqual([1, 0]);
    liar.onPong(pong(1, 1e9), 310); // counter far ahead of pings sent
    s = liar.stats(300);
    expect(s.lossUp).toBeGreaterThanOrEqual(0);
    expect(s.lossDown).toBeLessThanOrEqual(1);
  });
});

describe('PingTracker against garbage', () => {
  it('ignores duplicates, unknown seqs and inconsistent pongs', () => {
    const t = new PingTracker({ interval: 100 });
    const ok: Pong = { seq: 0, pingsReceived: 1, receivedAt: 10, sentAt: 12 };
    expect(t.onPong(ok, 30)).toBeUndefined(); // nothing sent yet
    t.poll(0);
    const bad: Pong[] = [
      { ...ok, seq: 1 }, // not sent yet
      { ...ok, seq: 40000 },
      { ...ok, seq: -1 },
      { ...ok, seq: 70000 },
      { ...ok, seq: 0.5 },
      { ...ok, seq: NaN },
      { ...ok, pingsReceived: -1 },
      { ...ok, pingsReceived: 2 ** 32 },
      { ...ok, pingsReceived: 1.5 },
      { ...ok, pingsReceived: NaN },
      { ...ok, receivedAt: NaN },
      { ...ok, sentAt: Infinity },
      { ...ok, sentAt: 9 }, // answered before receiving
      { ...ok, receivedAt: 0, sentAt: 31 }, // peer held it longer than the whole round trip
      { ...ok, receivedAt: -1.7e308, sentAt: 1.7e308 },
      { ...ok, receivedAt: 1.7e308, sentAt: 1.7e308 }, // offset overflows
    ];
    for (const p of bad) expect(t.onPong(p, 30)).toBeUndefined();
    expect(t.onPong(ok, NaN)).toBeUndefined();
    expect(t.stats(30).received).toBe(0);
    expect(t.onPong(ok, 30)).toBe(28);
    expect(t.onPong(ok, 31)).toBeUndefined(); // duplicate
    expect(t.stats(31)).toMatchObject({ received: 1, clockOffset: (10 + (12 - 30)) / 2 });
  });

  it('survives a flood of random pongs with bounded, sane stats', () => {
    let x = 12345;
    const rand = (): number => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pick = (): number => {
      const k = Math.floor(rand() * 8);
      return [NaN, Infinity, -1, 2 ** 32, 1e300, rand() * 65536, Math.floor(rand() * 65536), Math.floor(rand() * 2 ** 32)][k]!;
    };
    const t = new PingTracker({ interval: 10, window: 16 });
    let sent = 0;
    for (let now = 0; now < 5_000; now++) {
      if (t.poll(now)) sent++;
      // Half the seqs land in or near the window, to get past the seq check.
      const seq = rand() < 0.5 ? (sent - 1 - Math.floor(rand() * 24)) & 0xffff : Math.floor(rand() * 65536);
      const p: Pong = { seq, pingsReceived: pick(), receivedAt: pick(), sentAt: pick() };
      expect(() => t.onPong(p, now)).not.toThrow();
    }
    const s = t.stats(5_000);
    expect(s.lossUp).toBeGreaterThanOrEqual(0);
    expect(s.lossUp).toBeLessThanOrEqual(1);
    expect(s.lossDown).toBeGreaterThanOrEqual(0);
    expect(s.lossDown).toBeLessThanOrEqual(1);
    expect(s.rtt === undefined || s.rtt.count <= 16).toBe(true);
    expect(Number.isFinite(s.jitter)).toBe(true);
    expect(s.received).toBeGreaterThan(0); // some random pongs were plausible enough to be taken
  });
});
