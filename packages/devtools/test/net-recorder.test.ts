/** RingBuffer and NetRecorder: bounded history, packets from the trace, stats sampled, the report. */

import { describe, expect, it } from 'vitest';
import type { ConnectionStats, TraceEvent } from '@volley/protocol';
import { NetRecorder, RingBuffer } from '../src/index.js';

describe('RingBuffer', () => {
  it('keeps the newest capacity samples in order', () => {
    const r = new RingBuffer(3);
    expect(r.last).toBeNaN();
    for (let i = 1; i <= 5; i++) r.push(i);
    expect([r.at(0), r.at(1), r.at(2)]).toEqual([3, 4, 5]);
    expect(r.size).toBe(3);
    expect(r.last).toBe(5);
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
});

describe('NetRecorder', () => {
  const stats = (over: Partial<ConnectionStats>) =>
    ({ rtt: { smoothed: 40 }, jitter: 2, lossUp: 0, lossDown: 0.1, ...over }) as ConnectionStats;

  it('records each packet’s round trip, marks lost ones, counts bytes by kind, and reports the last 10 s', () => {
    const r = new NetRecorder({ seconds: 2 });
    const events: TraceEvent[] = [
      { type: 'packet-sent', t: 0, seq: 0, size: 100, acked: [], records: [{ channel: 0, size: 80, retransmit: false }] },
      { type: 'packet-sent', t: 10, seq: 1, size: 40, acked: [], records: [{ channel: 2, size: 20, retransmit: false }] },
      { type: 'packet-sent', t: 20, seq: 2, size: 12, acked: [0], records: [] },
      { type: 'packet-acked', t: 45, seq: 0, rtt: 45 },
      { type: 'packet-lost', t: 90, seq: 1, reason: 'packet-threshold' },
      { type: 'packet-received', t: 1100, seq: 7, size: 200, records: [{ channel: 0, size: 180, retransmit: false }] },
    ];
    for (const e of events) r.trace(e);
    expect([r.packetTime.at(0), r.packetRtt.at(0)]).toEqual([0, 45]);
    expect([r.packetTime.at(1), r.packetRtt.at(1)]).toEqual([10, -1]);
    // The first second's bytes, by what the packets carried (channel 2 is unreliable in the standard layout).
    expect(r.bytesByKind).toEqual({ reliable: 100, unreliable: 40, acks: 12, control: 0 });
    let s = stats({ bytesReceivedPerSecond: 500 });
    r.attach({ transport: 'websocket', failures: [{ transport: 'webrtc', reason: 'did not open' }], stats: () => s });
    r.detach();
    r.sample(1000);
    s = stats({ bytesReceivedPerSecond: 700, rtt: { smoothed: 50 } as ConnectionStats['rtt'] });
    r.sample(1100);
    const report = r.report(10);
    expect(report).toMatchObject({
      transport: 'websocket',
      rtt: [40, 50],
      bytesInPerSecond: [500, 700],
      failures: [{ transport: 'webrtc' }],
    });
    expect((report['packets'] as { rows: number[][] }).rows).toEqual([
      [0, 45],
      [10, -1],
    ]);
  });

  it('bounds what it keeps: old samples go, however long it runs', () => {
    const r = new NetRecorder({ seconds: 1 });
    for (let seq = 0; seq < 10_000; seq++) {
      r.trace({ type: 'packet-sent', t: seq, seq, size: 10, acked: [], records: [] });
      if (seq % 2 === 0) r.trace({ type: 'packet-acked', t: seq + 5, seq, rtt: 5 });
    }
    expect(r.packetRtt.size).toBe(r.packetRtt.capacity);
    expect(r.packetTime.last).toBe(9998);
  });
});
