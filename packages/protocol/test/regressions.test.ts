/**
 * Regressions found by review, each reproduced before it was fixed (see the commit that added this file).
 */

import { describe, expect, it } from 'vitest';
import {
  Connection,
  ConfigError,
  encodeHeader,
  encodeRecords,
  type ChannelIdMode,
  type ChannelOptions,
  type MessageRecord,
} from '../src/index.js';
import { encodePing } from '../src/control-record.js';

/** A server and a client connected by hand (no link), events drained. */
function connected(channels?: ChannelOptions[]) {
  const s = Connection.server({ channels, pingInterval: 0 });
  const c = Connection.client({ channels, nonce: 7, pingInterval: 0 });
  c.connect(0);
  for (const d of c.poll(0)) s.handle(d, 0);
  s.pollEvent();
  s.accept(0, 1, new Uint8Array(16));
  for (const d of s.poll(0)) c.handle(d, 0);
  while (s.pollEvent());
  while (c.pollEvent());
  return { s, c };
}

const idMode =
  (plain: number[]) =>
  (ch: number): ChannelIdMode =>
    ch === 15 || plain.includes(ch) ? 'plain' : 'id';
function packet(seq: number, records: MessageRecord[], plain: number[] = []): Uint8Array {
  const h = encodeHeader({ sequence: seq });
  const r = encodeRecords(records, idMode(plain));
  const out = new Uint8Array(h.length + r.length);
  out.set(h);
  out.set(r, h.length);
  return out;
}

describe('regressions', () => {
  it('two fragments of one message with different counts in one packet: malformed, never thrown or mixed', () => {
    for (const ch of [0, 1]) {
      const { s } = connected([{ kind: 'reliable-ordered' }, { kind: 'unreliable' }]);
      const d = packet(
        0,
        [
          { channel: ch, id: 5, fragment: { index: 0, count: 2 }, data: new Uint8Array(200) },
          { channel: ch, id: 5, fragment: { index: 1, count: 3 }, data: new Uint8Array(200) },
        ],
        [1],
      );
      expect(() => s.handle(d, 1)).not.toThrow();
      expect(s.stats().malformedPackets).toBe(1);
      expect(s.pollEvent()).toBeUndefined();
    }
  });

  it('at the in-flight packet cap, a queued pong neither busy-loops poll() nor pins nextTimeout()', () => {
    const ch: ChannelOptions[] = [{ kind: 'reliable-ordered', maxMessageSize: 16 << 20, maxQueuedBytes: 16 << 20 }];
    const { s } = connected(ch);
    s.transportChanged(0, true); // a reliable transport: no congestion window, so only the packet cap holds it
    s.send(0, new Uint8Array(11_000_000), 0);
    s.poll(0);
    expect(s.stats().packetsInFlight).toBe(8192);
    s.handle(packet(0, [{ channel: 15, data: encodePing({ seq: 0, sentAt: 1 }) }]), 1);
    expect(s.poll(2).length).toBeLessThanOrEqual(1); // at most an ack
    expect(s.nextTimeout()).toBeGreaterThan(2);
  });

  it('partial unreliable messages stay within maxQueuedBytes however their fragments arrive', () => {
    const ch: ChannelOptions[] = [{ kind: 'unreliable-sequenced' }, { kind: 'unreliable' }];
    const { s } = connected(ch);
    let seq = 0;
    // 40 messages of 64 fragments each, all incomplete (last fragment never sent): 40 × 63 × 1000 bytes offered.
    for (let id = 0; id < 40; id++) {
      for (let f = 0; f < 63; f++) {
        s.handle(packet(seq++, [{ channel: 0, id, fragment: { index: f, count: 64 }, data: new Uint8Array(1000) }]), 1);
        s.handle(packet(seq++, [{ channel: 1, id, fragment: { index: f, count: 64 }, data: new Uint8Array(1000) }], [1]), 1);
      }
    }
    for (const c of s.stats().channels) expect(c.bufferedBytes).toBeLessThanOrEqual(1024 * 1024);
    expect(s.stats().malformedPackets).toBe(0);
  });

  it('a packet held back while message ids wrapped does not deliver its stale payloads as new messages', () => {
    const ch: ChannelOptions[] = [{ kind: 'reliable-ordered' }];
    const { s, c } = connected(ch);
    const got: number[] = [];
    const num = (n: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, n);
      return b;
    };
    let next = 0;
    let held: Uint8Array | undefined;
    let replayed = false;
    for (let t = 1; got.length < 66_000 && t < 100_000; t++) {
      for (let k = 0; k < 150; k++) {
        try {
          c.send(0, num(next), t);
          next++;
        } catch {
          break;
        }
      }
      if (!replayed && got.length >= 64_800) {
        s.handle(held!, t); // arrives ~430 packets late, after the ids went once around 65536
        replayed = true;
      }
      for (const d of c.poll(t)) {
        if (!held && d.length > 600) held = d.slice();
        else s.handle(d, t);
      }
      for (let e = s.pollEvent(); e; e = s.pollEvent())
        if (e.type === 'message') got.push(new DataView(e.data.buffer, e.data.byteOffset).getUint32(0));
      for (const d of s.poll(t)) c.handle(d, t);
    }
    expect(replayed).toBe(true);
    expect(got.length).toBeGreaterThanOrEqual(66_000);
    const wrong = got.findIndex((n, i) => n !== i);
    expect(wrong).toBe(-1);
  });

  it('refuses a max message size that needs more than 65535 fragments at the MTU', () => {
    expect(
      () =>
        new Connection('server', {
          mtu: 200,
          channels: [{ kind: 'reliable-ordered', maxMessageSize: 64 << 20, maxQueuedBytes: 64 << 20 }],
        }),
    ).toThrow(ConfigError);
    expect(
      () =>
        new Connection('server', {
          mtu: 1200,
          channels: [{ kind: 'reliable-ordered', maxMessageSize: 64 << 20, maxQueuedBytes: 64 << 20 }],
        }),
    ).not.toThrow();
  });

  it('answers a repeated CONNECT with the REJECT again when the first was lost', () => {
    const s = Connection.server();
    const c = Connection.client({ nonce: 7 });
    c.connect(0);
    for (const d of c.poll(0)) s.handle(d, 0);
    s.pollEvent();
    s.reject(0, 32, 'full');
    s.poll(0); // this REJECT is lost
    let t = 0;
    while (c.state === 'connecting' && t < 20_000) {
      t = Math.max(t + 1, c.nextTimeout());
      for (const d of c.poll(t)) {
        s.handle(d, t);
        for (const r of s.poll(t)) c.handle(r, t);
      }
    }
    expect(c.pollEvent()).toEqual({ type: 'disconnected', reason: 32, text: 'full', by: 'peer' });
    expect(t).toBeLessThan(1000);
  });
});
