/**
 * PacketTimeline on the real protocol in simulated time: a server sends A, B and C on a reliable-ordered
 * channel, the link drops the packet carrying B (seed and rule fixed). The client's timeline shows C held
 * back waiting for B, then B and C delivered; the server's shows its packet lost and B resent in a new
 * packet; the ring keeps only its capacity; the lines say it in words.
 */

import { describe, expect, it } from 'vitest';
import { ConnectionPair, inspectPacket } from '@volley/protocol';
import { PacketTimeline } from '../src/index.js';

const channels = [{ kind: 'reliable-ordered' as const }];

function run(capacity?: number) {
  const client = new PacketTimeline({ channels, ...(capacity ? { capacity } : {}) });
  const server = new PacketTimeline({ channels });
  let bId = -1;
  let dropped = -1;
  const carriesB = (d: { direction: string; bytes: Uint8Array }) => {
    if (d.direction !== 'a-to-b' || dropped >= 0 || bId < 0) return false;
    const p = inspectPacket(d.bytes, [0]);
    if (p.kind !== 'data' || !p.records.some((r) => r.channel === 0 && r.id === bId)) return false;
    dropped = p.header.sequence;
    return true;
  };
  const quiet = { channels, pingInterval: 0, keepaliveInterval: 60_000 };
  const got: string[] = [];
  const pair = new ConnectionPair({
    server: { ...quiet, trace: server.trace },
    client: { ...quiet, nonce: 7, trace: client.trace },
    link: { seed: 1, conditions: { latency: 40 }, rules: [carriesB] },
    onClientEvent: (e) => {
      if (e.type === 'message') got.push(new TextDecoder().decode(e.data));
    },
  });
  const { sim } = pair;
  ['A', 'B', 'C'].forEach((name, i) =>
    sim.at(200 + i * 20, (now) => {
      const id = pair.server.send(0, new TextEncoder().encode(name), now)!;
      if (name === 'B') bId = id;
    }),
  );
  sim.runWhile(() => got.length < 3, 10_000);
  sim.runUntil(sim.now + 200);
  return { client, server, bId, dropped, got };
}

describe('PacketTimeline', () => {
  it('tells the A/B/C story from each side: C held back for B, B lost and resent, then B and C delivered', () => {
    const { client, server, bId, dropped, got } = run();
    expect(got).toEqual(['A', 'B', 'C']);
    const c = client.entries();
    const held = c.find((e) => e.kind === 'buffered');
    expect(held).toMatchObject({ channel: 0, id: (bId + 1) & 0xffff, waitingFor: bId });
    const delivered = c.filter((e) => e.kind === 'delivered').map((e) => e.id);
    expect(delivered.slice(-2)).toEqual([bId, (bId + 1) & 0xffff]);
    expect(client.held).toBe(0);
    // B's message arrived in a packet other than the dropped one, and not flagged as a copy (the first never came).
    const bArrival = c.find((e) => e.kind === 'received' && e.messages?.some((m) => m.id === bId));
    expect(bArrival?.seq).not.toBe(dropped);
    expect(bArrival?.messages?.find((m) => m.id === bId)?.again).toBeUndefined();
    // The client acknowledged the packets it got, in its own packets.
    expect(c.some((e) => e.kind === 'sent' && e.acks?.includes(bArrival!.seq!))).toBe(true);

    const s = server.entries();
    expect(s.some((e) => e.kind === 'lost' && e.seq === dropped)).toBe(true);
    const resent = s.find((e) => e.kind === 'resent');
    expect(resent).toMatchObject({ channel: 0, id: bId, previousSeq: dropped, seq: bArrival!.seq });
    expect(s.some((e) => e.kind === 'acked' && e.seq === bArrival!.seq)).toBe(true);

    // In words.
    expect(client.describe(held!)).toBe(`‖ (message ${held!.id} on reliable-ordered) held back: it must wait for message ${bId}`);
    expect(server.describe(resent!)).toBe(
      `↻ (message ${bId} on reliable-ordered) sent again in packet #${resent!.seq} (first in #${dropped})`,
    );
    expect(client.describe(bArrival!)).toMatch(new RegExp(`^↓ packet #${bArrival!.seq} arrived: reliable-ordered #${bId}`));
    const report = JSON.parse(client.report()) as { kind: string; text: string }[];
    expect(report).toHaveLength(c.length);
    expect(report.every((r) => typeof r.text === 'string' && r.text.length > 0)).toBe(true);
  });

  it('keeps only the newest `capacity` entries, numbered in order, and hears each as it comes', () => {
    const all = run().client.entries();
    const { client } = run(5);
    const kept = client.entries();
    expect(kept).toHaveLength(5);
    expect(kept.map((e) => e.n)).toEqual(all.slice(-5).map((e) => e.n));
    expect(kept.map((e) => e.kind)).toEqual(all.slice(-5).map((e) => e.kind));
    const heard: number[] = [];
    const stop = client.onEntry((e) => heard.push(e.n));
    client.trace({ type: 'packet-acked', t: 1, seq: 3, rtt: 20 });
    stop();
    client.trace({ type: 'packet-acked', t: 2, seq: 4, rtt: 20 });
    expect(heard).toEqual([all.length + 1]);
    client.clear();
    expect(client.entries()).toEqual([]);
    expect(() => new PacketTimeline({ capacity: 0 })).toThrow(RangeError);
  });
});
