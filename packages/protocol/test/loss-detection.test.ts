import { describe, expect, it } from 'vitest';
import { LossDetection, PACKET_THRESHOLD } from '../src/loss-detection.js';
import { RttEstimator } from '../src/rtt-estimator.js';
import { SentPackets, type SentPacket } from '../src/sent-packets.js';
import type { LossReason } from '../src/trace.js';

const RATE = { delivered: 0, deliveredAt: 0, firstSentAt: 0, appLimited: false };

function setup() {
  const sent = new SentPackets();
  const rtt = new RttEstimator({ initialRtt: 100, maxAckDelay: 10 });
  rtt.addSample(100, 0);
  const loss = new LossDetection(sent, rtt, { minRto: 30, maxRto: 2000, lazyAckDelay: 0 });
  const lost: [number, LossReason][] = [];
  const onLost = (p: SentPacket, r: LossReason) => void lost.push([p.seq, r]);
  const send = (seq: number, at: number) => sent.add({ seq, sentAt: at, size: 10, units: [], ...RATE });
  const ack = (seq: number, now: number) => {
    sent.take(seq);
    sent.largestAcked = Math.max(sent.largestAcked, seq);
    loss.detect(now, onLost);
  };
  return { sent, rtt, loss, lost, onLost, send, ack };
}

describe('LossDetection', () => {
  it('declares a packet lost when one 3 newer is acknowledged', () => {
    const t = setup();
    for (let i = 0; i < 5; i++) t.send(i, i);
    t.ack(2, 50);
    expect(t.lost).toEqual([]);
    t.ack(3, 51);
    expect(t.lost).toEqual([[0, 'packet-threshold']]);
  });

  it('declares a packet lost 9/8·RTT after it was sent once a newer one is acknowledged', () => {
    const t = setup();
    t.send(0, 0);
    t.send(1, 10);
    t.ack(1, 100);
    expect(t.lost).toEqual([]);
    expect(t.loss.nextTimeout()).toBe(112.5);
    t.loss.detect(112.5, t.onLost);
    expect(t.lost).toEqual([[0, 'time-threshold']]);
  });

  it('fires the probe timeout with backoff, clamped', () => {
    const t = setup();
    t.send(0, 0);
    const first = t.loss.nextTimeout();
    expect(first).toBeCloseTo(100 + 200 + 10, 6); // srtt + 4·rttvar + maxAckDelay
    t.loss.onProbeTimeout(t.onLost);
    expect(t.lost).toEqual([[0, 'probe-timeout']]); // it carried nothing to resend: dropped from the books
    t.send(1, first);
    expect(t.loss.nextTimeout() - first).toBeCloseTo(2 * 310, 6);
    for (let i = 0; i < 10; i++) t.loss.onProbeTimeout(() => {});
    t.send(2, 5000);
    expect(t.loss.nextTimeout()).toBe(7000); // clamped to maxRto
  });

  it('on a probe timeout names the two oldest packets with content to probe, and declares none of them lost', () => {
    const t = setup();
    const unit = { message: {} as never, unit: 0 };
    for (let i = 0; i < 5; i++) t.sent.add({ seq: i, sentAt: i, size: 10, units: i === 1 ? [] : [unit], ...RATE });
    const probes = t.loss.onProbeTimeout(t.onLost);
    expect(probes.map((p) => p.seq)).toEqual([0, 2]);
    expect(t.lost).toEqual([[1, 'probe-timeout']]);
    expect([...t.sent.values()].map((p) => p.seq)).toEqual([0, 2, 3, 4]);
    expect(t.loss.ptoCount).toBe(1);
  });

  it('waits the lazy ack delay longer before probing when nothing in flight carries reliable units', () => {
    const t = setup();
    const loss = new LossDetection(t.sent, t.rtt, { minRto: 30, maxRto: 2000, lazyAckDelay: 100 });
    const unit = { message: {} as never, unit: 0 };
    t.send(0, 0); // no units: its ack may come lazily
    expect(loss.nextTimeout()).toBeCloseTo(310 + 90, 6);
    t.sent.add({ seq: 1, sentAt: 0, size: 10, units: [unit], ...RATE });
    expect(loss.nextTimeout()).toBeCloseTo(310, 6);
    t.sent.take(1);
    expect(loss.nextTimeout()).toBeCloseTo(310 + 90, 6);
  });

  it('widens the packet threshold to the reordering seen when a loss proves spurious', () => {
    const t = setup();
    for (let i = 0; i < 12; i++) t.send(i, i);
    t.ack(10, 20);
    expect(t.lost.map(([s]) => s)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(t.loss.onLateAck(0)?.seq).toBe(0); // packet 0 arrived after all: 10 packets of reordering
    expect(t.loss.packetThreshold).toBe(11);
    expect(t.loss.onLateAck(0)).toBeUndefined();
    expect(t.loss.onLateAck(99)).toBeUndefined();
    expect(PACKET_THRESHOLD).toBe(3);
  });

  it('widens the time factor when a time-threshold loss proves spurious', () => {
    const t = setup();
    t.send(0, 0);
    t.send(1, 10);
    t.ack(1, 200);
    expect(t.lost).toEqual([[0, 'time-threshold']]);
    t.loss.onLateAck(0);
    expect(t.loss.timeFactor).toBe(9 / 8 + 1 / 8);
  });
});
