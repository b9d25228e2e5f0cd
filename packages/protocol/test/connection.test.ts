import { describe, expect, it } from 'vitest';
import {
  Connection,
  ConnectionPair,
  DisconnectReason,
  SendError,
  StateError,
  ConfigError,
  encodeControl,
  HOST_MAX_ACK_DELAY,
  MIN_CONNECT_SIZE,
  PROTOCOL_VERSION,
  STANDARD_CHANNELS,
  type ChannelOptions,
  type ConnectionEvent,
} from '../src/index.js';

const ALL_KINDS: ChannelOptions[] = [
  { kind: 'reliable-ordered' },
  { kind: 'reliable-unordered' },
  { kind: 'unreliable-sequenced' },
  { kind: 'unreliable' },
];
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** A client with a small reliable channel (2500 bytes, window 4) and a small unreliable one (250 bytes). */
function smallChannelsClient(): Connection {
  return Connection.client({
    nonce: 1,
    channels: [
      { kind: 'reliable-ordered', maxMessageSize: 1000, maxQueuedBytes: 2500, window: 4 },
      { kind: 'unreliable', maxMessageSize: 100, maxQueuedBytes: 250 },
    ],
  });
}

function collect() {
  const server: { e: ConnectionEvent; t: number }[] = [];
  const client: { e: ConnectionEvent; t: number }[] = [];
  return {
    serverEvents: server,
    clientEvents: client,
    onServerEvent: (e: ConnectionEvent, t: number) => void server.push({ e, t }),
    onClientEvent: (e: ConnectionEvent, t: number) => void client.push({ e, t }),
  };
}
const messages = (list: { e: ConnectionEvent }[], channel?: number) =>
  list.flatMap(({ e }) => (e.type === 'message' && (channel === undefined || e.channel === channel) ? [text(e.data)] : []));

describe('Connection lifecycle', () => {
  it('connects: CONNECT → connect-request → ACCEPT → connected on both sides, with a handshake RTT', () => {
    const ev = collect();
    const pair = new ConnectionPair({ link: { seed: 1, conditions: { latency: 20 } }, payload: bytes('token'), ...ev });
    expect(pair.client.state).toBe('connecting');
    expect(pair.connect()).toBe(true);
    const req = ev.serverEvents.find(({ e }) => e.type === 'connect-request')!.e as Extract<ConnectionEvent, { type: 'connect-request' }>;
    expect(text(req.payload)).toBe('token');
    expect(ev.clientEvents.find(({ e }) => e.type === 'connected')).toMatchObject({ e: { connectionId: 1 }, t: 40 });
    expect(pair.client.stats().rtt.smoothed).toBe(40);
  });

  it('retries CONNECT when the first ones are lost', () => {
    let n = 0;
    const pair = new ConnectionPair({
      link: { seed: 1, conditions: { latency: 10 }, rules: [(d) => d.direction === 'b-to-a' && n++ < 2] },
    });
    expect(pair.connect()).toBe(true);
    expect(pair.sim.now).toBeGreaterThan(250 + 250 * 1.5);
  });

  it('answers a repeated CONNECT with a fresh ACCEPT when the first ACCEPT was lost', () => {
    const pair = new ConnectionPair({
      link: { seed: 1, conditions: { latency: 10 }, rules: [(d) => d.direction === 'a-to-b' && d.index === 0] },
    });
    expect(pair.connect()).toBe(true);
    expect(pair.client.state).toBe('connected');
  });

  it("delivers the host's rejection with its reason and text", () => {
    const ev = collect();
    const pair = new ConnectionPair({ accept: () => ({ reject: DisconnectReason.Rejected, text: 'bad token' }), ...ev });
    pair.sim.runUntil(1000);
    expect(pair.client.state).toBe('disconnected');
    expect(ev.clientEvents.at(-1)!.e).toEqual({ type: 'disconnected', reason: DisconnectReason.Rejected, text: 'bad token', by: 'peer' });
  });

  it('refuses a client with a different channel layout, saying where', () => {
    const ev = collect();
    const pair = new ConnectionPair({
      server: { channels: [{ kind: 'reliable-ordered' }] },
      client: { channels: [{ kind: 'unreliable' }] },
      ...ev,
    });
    pair.sim.runUntil(1000);
    const d = ev.clientEvents.at(-1)!.e as Extract<ConnectionEvent, { type: 'disconnected' }>;
    expect(d.reason).toBe(DisconnectReason.ChannelMismatch);
    expect(d.text).toContain('channel 0 kind');
    expect(ev.serverEvents.some(({ e }) => e.type === 'connect-request')).toBe(false);
  });

  it('refuses another protocol version, older (laid out differently) or newer', () => {
    // Version 3's CONNECT had no max ack delay byte: prefix, version, nonce 5, attempt 1, no channels, no payload.
    const v3 = new Uint8Array(MIN_CONNECT_SIZE);
    v3.set([0x41, 3, 0, 0, 0, 5, 1, 0, 0, 0]);
    const newer = encodeControl({
      type: 'connect',
      version: PROTOCOL_VERSION + 1,
      nonce: 5,
      attempt: 1,
      maxAckDelay: 20,
      channels: [],
      payload: new Uint8Array(0),
    });
    for (const connect of [v3, newer]) expectVersionRefused(connect);
  });

  function expectVersionRefused(connect: Uint8Array): void {
    const server = Connection.server();
    server.handle(connect, 0);
    const [reply] = server.poll(0);
    expect(reply!.length).toBeLessThanOrEqual(connect.length);
    const client = Connection.client({ nonce: 5 });
    client.connect(0);
    client.poll(0);
    client.handle(reply!, 1);
    expect(client.pollEvent()).toMatchObject({ type: 'disconnected', reason: DisconnectReason.VersionMismatch });
  }

  it('gives up connecting after the timeout', () => {
    const ev = collect();
    const pair = new ConnectionPair({ client: { timeout: 3000 }, link: { seed: 1, conditions: { loss: 1 } }, ...ev });
    pair.sim.runUntil(5000);
    expect(ev.clientEvents.at(-1)).toMatchObject({ e: { type: 'disconnected', reason: DisconnectReason.ConnectTimeout }, t: 3000 });
  });

  it('times out when the peer goes silent, and keeps alive while it does not', () => {
    const ev = collect();
    let cut = false;
    const pair = new ConnectionPair({
      server: { timeout: 2000, pingInterval: 0 },
      client: { timeout: 2000, pingInterval: 0 },
      link: { seed: 1, conditions: { latency: 5 }, rules: [() => cut] },
      ...ev,
    });
    pair.connect();
    pair.sim.runUntil(10_000); // idle but alive: keepalives flow
    expect(pair.client.state).toBe('connected');
    expect(pair.server.state).toBe('connected');
    cut = true;
    pair.sim.runUntil(13_000);
    expect(ev.clientEvents.at(-1)!.e).toMatchObject({ type: 'disconnected', reason: DisconnectReason.Timeout, by: 'local' });
    expect(ev.serverEvents.at(-1)!.e).toMatchObject({ type: 'disconnected', reason: DisconnectReason.Timeout, by: 'local' });
  });

  it('disconnects gracefully: the peer learns the reason even if some copies are lost', () => {
    const ev = collect();
    let dropNext = 0;
    const pair = new ConnectionPair({
      link: { seed: 1, conditions: { latency: 5 }, rules: [(d) => d.direction === 'b-to-a' && dropNext-- > 0] },
      ...ev,
    });
    pair.connect();
    dropNext = 2; // the first two DISCONNECT copies vanish
    pair.client.disconnect(pair.sim.now, 40, 'bye');
    pair.sim.runUntil(pair.sim.now + 1000);
    expect(ev.serverEvents.at(-1)!.e).toEqual({ type: 'disconnected', reason: 40, text: 'bye', by: 'peer' });
    expect(ev.clientEvents.at(-1)!.e).toEqual({ type: 'disconnected', reason: 40, text: 'bye', by: 'local' });
  });

  it('ignores a DISCONNECT with the wrong connection id', () => {
    const pair = new ConnectionPair();
    pair.connect();
    pair.server.handle(encodeControl({ type: 'disconnect', connectionId: 999, reason: 0, text: '' }), pair.sim.now);
    expect(pair.server.state).toBe('connected');
  });

  it('rejects misuse with typed errors', () => {
    expect(() => Connection.server().connect(0)).toThrow(StateError);
    expect(() => Connection.client({ nonce: 1 }).accept(0, 1, new Uint8Array(16))).toThrow(StateError);
    expect(() => Connection.client()).toThrow(/needs options.random/);
    expect(() => new Connection('client', { mtu: 50 })).toThrow(ConfigError);
    expect(() => new Connection('client', { channels: [] })).toThrow(/1\.\.15 channels/);
    expect(() => new Connection('client', { channels: [{ kind: 'reliable-ordered', maxMessageSize: 10, maxQueuedBytes: 5 }] })).toThrow(
      ConfigError,
    );
  });
});

describe('Connection messaging', () => {
  it('carries messages both ways on every channel kind', () => {
    const ev = collect();
    const pair = new ConnectionPair({
      server: { channels: ALL_KINDS },
      client: { channels: ALL_KINDS },
      link: { seed: 3, conditions: { latency: 15 } },
      ...ev,
    });
    pair.connect();
    for (let ch = 0; ch < 4; ch++) {
      pair.client.send(ch, bytes(`c${ch}`));
      pair.server.send(ch, bytes(`s${ch}`));
    }
    pair.sim.runUntil(pair.sim.now + 500);
    for (let ch = 0; ch < 4; ch++) {
      expect(messages(ev.serverEvents, ch)).toEqual([`c${ch}`]);
      expect(messages(ev.clientEvents, ch)).toEqual([`s${ch}`]);
    }
  });

  it('queues messages sent while connecting and delivers them once connected', () => {
    const ev = collect();
    const pair = new ConnectionPair({ link: { seed: 1, conditions: { latency: 30 } }, ...ev });
    pair.client.send(0, bytes('early'));
    pair.sim.runUntil(1000);
    expect(messages(ev.serverEvents)).toEqual(['early']);
  });

  it('coalesces many small messages into few packets', () => {
    const pair = new ConnectionPair({ server: { pingInterval: 0 }, client: { pingInterval: 0 } });
    pair.connect();
    const before = pair.client.stats().packetsSent;
    for (let i = 0; i < 100; i++) pair.client.send(0, new Uint8Array(8));
    const out = pair.client.poll(pair.sim.now);
    expect(out.length).toBe(1);
    expect(out[0]!.length).toBeLessThanOrEqual(1200);
    // 100 × (8 payload + 2 record bytes, ids implied after the first) + header ≤ 1200
    expect(out[0]!.length).toBeLessThan(100 * 10 + 2 + 10 + 1);
    expect(pair.client.stats().packetsSent).toBe(before + 1);
  });

  it('throws typed send errors: unknown channel, too large, back-pressure, closed', () => {
    const c = smallChannelsClient();
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SendError);
        return (e as SendError).code;
      }
      return 'no error';
    };
    expect(code(() => c.send(7, new Uint8Array(1)))).toBe('unknown-channel');
    expect(code(() => c.send(0, new Uint8Array(1001)))).toBe('message-too-large');
    c.send(0, new Uint8Array(1000));
    c.send(0, new Uint8Array(1000));
    expect(code(() => c.send(0, new Uint8Array(1000)))).toBe('backpressure'); // bytes
    c.send(0, new Uint8Array(1));
    c.send(0, new Uint8Array(1));
    expect(code(() => c.send(0, new Uint8Array(1)))).toBe('backpressure'); // window of 4 messages
    // Unreliable: over the cap the oldest queued messages are dropped, send succeeds.
    for (let i = 0; i < 5; i++) c.send(1, new Uint8Array(100));
    expect(c.stats().channels[1]!.queuedBytes).toBeLessThanOrEqual(250);
    expect(c.stats().sendQueueDrops).toBe(3);
    c.disconnect(0);
    expect(code(() => c.send(1, new Uint8Array(1)))).toBe('closed');
  });

  it('trySend: back-pressure is false, not an exception; mistakes and the end still throw', () => {
    const c = smallChannelsClient();
    expect(c.trySend(0, new Uint8Array(1000))).toBe(true);
    expect(c.trySend(0, new Uint8Array(1000))).toBe(true);
    expect(c.trySend(0, new Uint8Array(1000))).toBe(false); // the channel's bytes
    expect(() => c.trySend(0, new Uint8Array(1001))).toThrow(/maxMessageSize/); // too large even when full: a mistake
    expect(c.trySend(0, new Uint8Array(1))).toBe(true);
    expect(c.trySend(0, new Uint8Array(1))).toBe(true);
    expect(c.trySend(0, new Uint8Array(1))).toBe(false); // the window of 4 messages
    expect(c.stats().messagesSent).toBe(4); // what was refused was not queued
    const small = Connection.client({ nonce: 1, channels: STANDARD_CHANNELS, maxSendBuffer: 256 * 1024 });
    expect(small.trySend(0, new Uint8Array(256 * 1024 - 100))).toBe(true);
    expect(small.trySend(3, new Uint8Array(100))).toBe(true); // channel 3: unreliable
    expect(small.trySend(3, new Uint8Array(1))).toBe(false); // past maxSendBuffer an unreliable message is dropped
    expect(small.trySend(0, new Uint8Array(1))).toBe(false); // and a reliable one refused
    expect(small.stats().sendQueueDrops).toBe(1);
    expect(() => c.trySend(7, new Uint8Array(1))).toThrow(SendError);
    c.disconnect(0);
    expect(() => c.trySend(1, new Uint8Array(1))).toThrow(/closed|disconnect/);
  });

  it('frees back-pressure once the peer acknowledges', () => {
    const ch = [{ kind: 'reliable-ordered' as const, maxMessageSize: 1000, maxQueuedBytes: 3000 }];
    const pair = new ConnectionPair({ server: { channels: ch }, client: { channels: ch }, link: { seed: 1, conditions: { latency: 10 } } });
    pair.connect();
    for (let i = 0; i < 3; i++) pair.client.send(0, new Uint8Array(1000));
    expect(() => pair.client.send(0, new Uint8Array(1000))).toThrow(SendError);
    pair.sim.runUntil(pair.sim.now + 200);
    expect(pair.client.stats().pendingReliableBytes).toBe(0);
    expect(() => pair.client.send(0, new Uint8Array(1000))).not.toThrow();
  });

  it('acks of unreliable inputs ride on the state going the other way: about one datagram per state, not two', () => {
    const channels: ChannelOptions[] = [{ kind: 'reliable-ordered' }, { kind: 'unreliable-sequenced' }];
    for (const reliableTransport of [false, true]) {
      const pair = new ConnectionPair({ server: { channels }, client: { channels }, link: { seed: 1, conditions: { latency: 1 } } });
      pair.connect();
      if (reliableTransport) for (const c of [pair.client, pair.server]) c.transportChanged(pair.sim.now, true);
      const t0 = pair.sim.now;
      for (let i = 0; i < 400; i++) {
        pair.sim.at(t0 + i * 50, () => pair.server.send(0, new Uint8Array(200))); // state, 20 a second
        pair.sim.at(t0 + i * 50 + 17.3, () => pair.client.send(1, new Uint8Array(16))); // an input between two states
      }
      const before = pair.server.stats().packetsSent;
      pair.sim.runUntil(t0 + 20_000);
      const perState = (pair.server.stats().packetsSent - before) / 400;
      expect(perState, reliableTransport ? 'reliable transport' : 'udp').toBeGreaterThanOrEqual(1);
      expect(perState, reliableTransport ? 'reliable transport' : 'udp').toBeLessThan(1.15); // pings and pongs besides
    }
  });

  it("with the hosts' max ack delay (60 ms), acks of reliable inputs and states ride on each other: one datagram each", () => {
    const channels: ChannelOptions[] = [{ kind: 'reliable-ordered' }, { kind: 'reliable-ordered' }];
    /** Datagrams per message from the server (20 states a second) and the client (20 inputs, `offset` ms after each state). */
    const perMessage = (maxAckDelay: number | undefined, latency: number, offset: number) => {
      const o = { channels, ...(maxAckDelay !== undefined ? { maxAckDelay } : {}) };
      const pair = new ConnectionPair({ server: o, client: o, link: { seed: 3, conditions: { latency, jitter: 1 } } });
      pair.connect();
      const t0 = pair.sim.now;
      for (let i = 0; i < 400; i++) {
        pair.sim.at(t0 + i * 50, () => pair.server.send(0, new Uint8Array(200)));
        pair.sim.at(t0 + i * 50 + offset, () => pair.client.send(1, new Uint8Array(16)));
      }
      const [server, client] = [pair.server.stats().packetsSent, pair.client.stats().packetsSent];
      pair.sim.runUntil(t0 + 20_100);
      expect(pair.server.stats().messagesDelivered).toBeGreaterThanOrEqual(400);
      expect(pair.client.stats().messagesDelivered).toBeGreaterThanOrEqual(400);
      return [(pair.server.stats().packetsSent - server) / 400, (pair.client.stats().packetsSent - client) / 400];
    };
    for (const latency of [1, 15, 40]) {
      for (const offset of [5, 25, 45]) {
        for (const n of perMessage(HOST_MAX_ACK_DELAY, latency, offset)) {
          expect(n, `${latency} ms each way, inputs ${offset} ms after states`).toBeGreaterThanOrEqual(1);
          expect(n, `${latency} ms each way, inputs ${offset} ms after states`).toBeLessThan(1.15); // pings and pongs besides
        }
      }
    }
    // Holding acks only 20 ms (a bare Connection's default), with each side's next message more than 20 ms after
    // the other's arrives, every ack takes a datagram of its own.
    for (const n of perMessage(undefined, 1, 25)) expect(n).toBeGreaterThan(1.8);
  });

  it("a peer's probe timeout waits for the max ack delay announced in the handshake, so no probe goes out spuriously", () => {
    const probes = (clientDelay: number, serverAssumes: 'announced' | 'its own') => {
      const probed: number[] = [];
      const pair = new ConnectionPair({
        client: { maxAckDelay: clientDelay },
        server: { trace: (e) => void (e.type === 'packet-probed' && probed.push(e.seq)) },
        link: { seed: 5, conditions: { latency: 2 } },
      });
      pair.connect();
      if (serverAssumes === 'its own') (pair.server as unknown as { rtt: { maxAckDelay: number } }).rtt.maxAckDelay = 20;
      // One reliable message at a time, nothing coming back: every ack is held the client's whole max ack delay.
      for (let i = 0; i < 20; i++) pair.sim.at(pair.sim.now + 10 + i * 300, () => pair.server.send(0, new Uint8Array(50)));
      pair.sim.runUntil(pair.sim.now + 6100);
      expect(pair.client.stats().messagesDelivered).toBe(20);
      return probed.length;
    };
    expect(probes(90, 'announced')).toBe(0);
    // The other way round: the client takes the server's max ack delay from its ACCEPT.
    const probed: number[] = [];
    const pair = new ConnectionPair({
      server: { maxAckDelay: 90 },
      client: { trace: (e) => void (e.type === 'packet-probed' && probed.push(e.seq)) },
      link: { seed: 5, conditions: { latency: 2 } },
    });
    pair.connect();
    for (let i = 0; i < 20; i++) pair.sim.at(pair.sim.now + 10 + i * 300, () => pair.client.send(0, new Uint8Array(50)));
    pair.sim.runUntil(pair.sim.now + 6100);
    expect(pair.server.stats().messagesDelivered).toBe(20);
    expect(probed).toEqual([]);
    expect(probes(90, 'its own')).toBeGreaterThanOrEqual(10); // the check is not vacuous: a 20 ms allowance probes
  });

  it('never delivers an older unreliable-sequenced message after a newer one', () => {
    const ch: ChannelOptions[] = [{ kind: 'unreliable-sequenced' }];
    const ev = collect();
    const pair = new ConnectionPair({
      server: { channels: ch },
      client: { channels: ch },
      link: { seed: 9, conditions: { latency: 20, jitter: 40 } },
      ...ev,
    });
    pair.connect();
    for (let i = 0; i < 50; i++) pair.sim.at(pair.sim.now + i * 2, () => void pair.client.send(0, bytes(String(i))));
    pair.sim.runUntil(pair.sim.now + 1000);
    const got = messages(ev.serverEvents).map(Number);
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(50); // jitter reordered some, which were dropped as stale
    for (let i = 1; i < got.length; i++) expect(got[i]).toBeGreaterThan(got[i - 1]!);
    expect(pair.server.stats().messagesDropped).toBe(50 - got.length);
  });

  it('measures RTT, jitter, clock offset and loss through ping', () => {
    const pair = new ConnectionPair({
      link: { seed: 4, conditions: { latency: 25, jitter: 10 } },
      server: { pingInterval: 100 },
      client: { pingInterval: 100 },
    });
    pair.connect();
    pair.sim.runUntil(pair.sim.now + 5000);
    const s = pair.client.stats();
    expect(s.ping.sent).toBeGreaterThan(40);
    expect(s.ping.rtt!.min).toBeGreaterThanOrEqual(50);
    expect(s.ping.rtt!.max).toBeLessThanOrEqual(70);
    expect(s.jitter).toBeGreaterThan(0);
    expect(s.lossUp).toBe(0);
    expect(s.lossDown).toBe(0);
    // Same simulated clock on both sides: the estimated offset is within half the jitter.
    expect(Math.abs(s.ping.clockOffset!)).toBeLessThanOrEqual(5);
    expect(s.rtt.window!.p50).toBeGreaterThanOrEqual(50);
    expect(s.bytesReceivedPerSecond).toBeGreaterThan(0);
  });
});

describe('Connection recovery', () => {
  it('resumes after an outage longer than the sequence jump limit (one side kept sending)', () => {
    const ev = collect();
    let cut = false;
    const ch: ChannelOptions[] = [{ kind: 'reliable-ordered' }, { kind: 'unreliable' }];
    const pair = new ConnectionPair({
      server: { channels: ch, timeout: 60_000 },
      client: { channels: ch, timeout: 60_000 },
      link: { seed: 1, conditions: { latency: 5 }, rules: [(d) => cut && d.direction === 'b-to-a'] },
      ...ev,
    });
    pair.connect();
    cut = true;
    // 3000 packets from the client vanish (more than the 2048 jump limit).
    for (let i = 0; i < 3000; i++) pair.sim.at(pair.sim.now + i, () => void pair.client.send(1, bytes('x')));
    pair.sim.runUntil(pair.sim.now + 3100);
    cut = false;
    pair.client.send(0, bytes('back'));
    pair.sim.runUntil(pair.sim.now + 5000);
    expect(messages(ev.serverEvents, 0)).toEqual(['back']);
    expect(pair.server.state).toBe('connected');
  });

  it('a pause on a loss-free link (the peer stops answering for 300 ms, then catches up) sends one or two probes per timeout, not everything again', () => {
    let probes = 0;
    const pair = new ConnectionPair({
      link: { seed: 1, conditions: { latency: 5 } },
      client: { trace: (e) => void (e.type === 'packet-probed' && probes++) },
    });
    pair.connect();
    let now = pair.sim.now + 100;
    pair.sim.runUntil(now);
    // 100 messages go out and the server is paused: it reads nothing for 300 ms.
    const held: Uint8Array[] = [];
    for (let i = 0; i < 100; i++) pair.client.send(0, new Uint8Array(500).fill(i));
    const before = pair.client.stats().retransmissions;
    let packets = 0;
    for (const end = now + 300; now < end; now = Math.min(end, Math.max(now + 1, pair.client.nextTimeout()))) {
      const out = pair.client.poll(now);
      packets += out.length;
      held.push(...out.map((d) => d.slice()));
    }
    const resent = pair.client.stats().retransmissions - before;
    // The initial congestion window (10 packets) goes out; with 5 ms each way the probe timeout then fires
    // several times in 300 ms.
    expect(packets).toBeGreaterThanOrEqual(10);
    console.log(`300 ms pause: ${packets} packets sent, ${probes} probed, ${resent} messages resent`);
    expect(resent).toBeGreaterThan(0); // it did probe
    // Each timeout probes the two oldest packets in flight (two 500 B messages each), and backs off.
    expect(probes).toBeLessThanOrEqual(2 * 6);
    expect(resent).toBeLessThanOrEqual(2 * probes);
    // The server wakes up and reads everything; then the two talk directly until the rest is across. Every
    // message arrives once, in order.
    const got: number[] = [];
    for (const d of held) pair.server.handle(d, now);
    for (let round = 0; round < 1000 && got.length < 100; round++, now += 1) {
      for (let e = pair.server.pollEvent(); e; e = pair.server.pollEvent()) if (e.type === 'message') got.push(e.data[0]!);
      for (const d of pair.server.poll(now)) pair.client.handle(d, now);
      for (const d of pair.client.poll(now)) pair.server.handle(d, now);
    }
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
