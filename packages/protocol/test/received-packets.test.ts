import { describe, expect, it } from 'vitest';
import { DEDUP_WINDOW, MAX_SEQUENCE_JUMP, QUICK_ACKS_AFTER_GAP, ReceivedPackets } from '../src/received-packets.js';

const take = (r: ReceivedPackets, n: number, now = 0, size = 1200) => {
  const v = r.check(n);
  if (v === 'new') r.record(n, 'eager', now, 10, size);
  return v;
};

describe('ReceivedPackets', () => {
  it('acks the anchor and the 32 before it, bit i = anchor − 1 − i', () => {
    const r = new ReceivedPackets(1200);
    for (const n of [0, 1, 2, 4, 5]) take(r, n);
    const a = r.ackInfo(0)!;
    expect(a.ack).toBe(5);
    // 4 yes (bit 0), 3 missing (bit 1), 2,1,0 yes, negatives yes
    expect(a.bits).toBe(0xfffffffd);
  });

  it('drops duplicates and stale packets', () => {
    const r = new ReceivedPackets(1200);
    take(r, 0);
    expect(r.check(0)).toBe('duplicate');
    for (let n = 1; n <= DEDUP_WINDOW + 10; n++) take(r, n);
    expect(r.check(5)).toBe('stale');
  });

  it('owes an ack at once after two full-size ack-eliciting packets or a gap, else within maxAckDelay', () => {
    const r = new ReceivedPackets(1200);
    take(r, 0, 100);
    expect(r.ackDue).toBe(110);
    take(r, 1, 101);
    expect(r.ackDue).toBe(101);
    r.onAckSent(false);
    take(r, 5, 200); // gap
    expect(r.ackDue).toBe(200);
  });

  it('after a gap, acks the next QUICK_ACKS_AFTER_GAP reliable packets at once too, then holds again', () => {
    const r = new ReceivedPackets(1200);
    take(r, 0, 100, 80);
    r.onAckSent(false);
    take(r, 2, 120, 80); // 1 is missing
    expect(r.ackDue).toBe(120);
    r.onAckSent(false);
    expect(QUICK_ACKS_AFTER_GAP).toBe(2);
    for (let i = 0; i < 2; i++) {
      take(r, 3 + i, 130 + i, 80);
      expect(r.ackDue).toBe(130 + i);
      r.onAckSent(false);
    }
    take(r, 5, 200, 80);
    expect(r.ackDue).toBe(210);
  });

  it('a gap that arrives with an ack-only packet is reported by the next eliciting one, at once', () => {
    const r = new ReceivedPackets(1200);
    take(r, 0, 100, 80);
    r.onAckSent(false);
    r.record(2, 'none', 110, 10, 20); // 1 is missing; an ack-only packet owes no ack
    expect(r.ackDue).toBe(Infinity);
    take(r, 3, 120, 80); // in order after 2, but the gap before 2 was never acknowledged
    expect(r.ackDue).toBe(120);
    expect(r.ackInfo(120)!.bits & 0b10).toBe(0); // 1 reported missing
    r.onAckSent(false);
    // Once an ack has shown the gap, it is old news: the quick acks after it run out as usual.
    const s = new ReceivedPackets(1200);
    take(s, 0, 100, 80);
    s.onAckSent(false);
    s.record(2, 'none', 110, 10, 20);
    s.onAckSent(false); // an ack rode on our own data
    take(s, 3, 120, 80);
    expect(s.ackDue).toBe(130);
  });

  it('small packets wait for the delay until they add up to more than an MTU', () => {
    const r = new ReceivedPackets(1200);
    for (let n = 0; n < 15; n++) {
      take(r, n, 100 + n, 80); // 15 × 80 = 1200: not more than one MTU
      expect(r.ackDue).toBe(110);
    }
    take(r, 15, 116, 80);
    expect(r.ackDue).toBe(116);
  });

  it('a lazy packet waits its longer delay and does not count towards the byte rule, unless an eager ack is owed', () => {
    const r = new ReceivedPackets(1200);
    for (const [n, at] of [
      [0, 100],
      [1, 110],
      [2, 120],
    ] as const) {
      expect(r.check(n)).toBe('new');
      r.record(n, 'lazy', at, 100, 1200);
    }
    expect(r.ackDue).toBe(200); // three in order, still riding on whatever goes out first
    expect(r.check(3)).toBe('new');
    r.record(3, 'eager', 130, 10, 1200);
    expect(r.ackDue).toBe(140);
    expect(r.check(4)).toBe('new');
    r.record(4, 'lazy', 131, 100, 1200);
    expect(r.ackDue).toBe(131); // an eager ack was owed: the second packet makes it due at once
    r.onAckSent(false);
    expect(r.check(6)).toBe('new');
    r.record(6, 'lazy', 300, 100, 1200);
    expect(r.ackDue).toBe(300); // a gap: at once, lazy or not
  });

  it('in a burst, acks every 16 packets, so each packet is in two acks', () => {
    const r = new ReceivedPackets(1200);
    for (let n = 0; n <= 16; n++) {
      expect(r.mustAckBefore(n)).toBe(false);
      take(r, n);
    }
    expect(r.mustAckBefore(17)).toBe(true); // 0 would be 17 behind
    r.onAckSent(false);
    expect(r.mustAckBefore(17)).toBe(false);
  });

  it('anchors on the last arrival, so one forged packet far ahead cannot capture the acks', () => {
    const r = new ReceivedPackets(1200);
    for (let n = 0; n < 10; n++) take(r, n);
    expect(take(r, 1500)).toBe('new'); // within the jump limit: accepted
    expect(take(r, 10)).toBe('new'); // the real stream continues, still acceptable
    expect(r.ackInfo(0)!.ack).toBe(10);
    expect(r.ackInfo(0)!.bits & 0x1ff).toBe(0x1ff); // 9..1 acknowledged
  });

  it('refuses a lone jump past the limit, but follows three consistent ones (peer resuming after an outage)', () => {
    const r = new ReceivedPackets(1200);
    for (let n = 0; n < 10; n++) take(r, n);
    const far = 10 + MAX_SEQUENCE_JUMP + 500;
    expect(take(r, far)).toBe('out-of-window');
    expect(take(r, far + 1)).toBe('out-of-window');
    expect(take(r, 11)).toBe('new'); // real traffic in the window: the far run does not count any more
    expect(take(r, far + 2)).toBe('out-of-window');
    expect(take(r, far + 3)).toBe('out-of-window');
    expect(take(r, far + 4)).toBe('new'); // third in a row within 64 of each other: resync
    expect(r.largest).toBe(far + 4);
    expect(take(r, far + 5)).toBe('new');
    expect(take(r, 30_000 + far)).toBe('out-of-window');
  });
});
