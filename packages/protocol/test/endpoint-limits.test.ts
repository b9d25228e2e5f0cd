/**
 * The server endpoint's limits, in simulated time (endpoint-sim.ts): every inbound datagram of a session
 * counts toward its budget (packetsPerSecond, bytesPerSecond, 2 s of burst) — pings, duplicates, garbage,
 * the CONNECT repeats of a pending session — and going over ends that session only, with RateLimited. Per
 * source: links in handshake (maxPendingLinksPerSource), their datagrams, sessions (maxSessionsPerSource)
 * and new sessions per second (newSessionsPerSecondPerSource); other sources are unaffected, and what the
 * endpoint remembers per source is forgotten once the source is idle and its buckets are full again.
 */

import { describe, expect, it } from 'vitest';
import { DisconnectReason, SERVER_ENDPOINT_DEFAULTS as D, type EndpointSession, type ServerEndpointEvent } from '../src/index.js';
import { EndpointSim, type SimClient, type SimSession } from './endpoint-sim.js';

const LINK = { conditions: { latency: 2 } };

function connected(sim: EndpointSim, client: SimClient): SimSession {
  sim.runWhile(() => !client.connected || !sim.sessionOf(client)?.connected, sim.now + 5000);
  const s = sim.sessionOf(client);
  expect(client.connected && s?.connected, `${sim.label} ${client.name} did not connect`).toBe(true);
  return s!;
}

/** The good client still works: `n` numbered messages each way arrive, and neither side ended. */
function stillServed(sim: EndpointSim, c: SimClient, n = 20): void {
  const s = sim.sessionOf(c)!;
  const [a, b] = [c.received.length, s.received.length];
  sim.clientSend(c, n);
  sim.serverSend(s, n);
  sim.runWhile(() => c.received.length < a + n || s.received.length < b + n, sim.now + 5000);
  expect([c.received.length - a, s.received.length - b], sim.label).toEqual([n, n]);
  expect([c.end, s.end]).toEqual([undefined, undefined]);
}

/** When a session's 'disconnected' (or 'refused') came, and the datagrams its connection had taken by then. */
function watchEnds() {
  const ends = new Map<EndpointSession<number>, { t: number; taken: number }>();
  const onServerEvent = (e: ServerEndpointEvent<number>, now: number): void => {
    if (e.type === 'disconnected' || e.type === 'refused')
      ends.set(e.session, { t: now, taken: e.session.connection.stats().packetsReceived });
  };
  return { ends, onServerEvent };
}

describe('server endpoint: every inbound datagram of a session counts', () => {
  it('a PING flood (a client pinging every 0.1 ms) is cut with RateLimited where packetsPerSecond says; another client is unaffected', () => {
    const watch = watchEnds();
    const sim = new EndpointSim({ seed: 21, link: LINK, onServerEvent: watch.onServerEvent });
    const good = sim.addClient();
    connected(sim, good);
    const flooder = sim.addClient({ client: { connection: { pingInterval: 0.1 } } });
    const fs = connected(sim, flooder);
    const started = fs.events[0]!.t; // connect-request: the session (and its budget) began
    sim.runWhile(() => fs.end === undefined, sim.now + 5000);
    expect(fs.end, sim.label).toMatchObject({ type: 'disconnected', reason: DisconnectReason.RateLimited, by: 'local' });
    expect(fs.end!.text).toBe('rate limit: over 1000 datagrams/s');
    sim.runWhile(() => flooder.end === undefined, sim.now + 2000);
    expect(flooder.end, sim.label).toMatchObject({ reason: DisconnectReason.RateLimited, by: 'peer' });
    // Cut where the budget ran out: 2 s of burst plus the rate over the session's life (its CONNECT aside).
    // The cut is when the first DISCONNECT left; the connection took nothing after (the client heard it).
    const t = flooder.links[0]!.log.find((w) => w.dir === 'down' && w.kind === 'disconnect')!.time;
    const { taken } = watch.ends.get(fs.session)!;
    const budget = 2 * D.packetsPerSecond + ((t - started) / 1000) * D.packetsPerSecond;
    expect(taken - 1).toBeGreaterThanOrEqual(Math.floor(budget) - 1);
    expect(taken - 1).toBeLessThanOrEqual(Math.ceil(budget));
    expect(sim.server.counters.rateLimited).toBe(1);
    stillServed(sim, good);
    sim.checkHealthy();
  });

  it('bytes on the wire count, whatever they carry: 300 copies of one 1 KB datagram pass bytesPerSecond and are cut', () => {
    const sim = new EndpointSim({ seed: 22, link: LINK, server: { bytesPerSecond: 50_000 }, recordBytes: true });
    const good = sim.addClient();
    connected(sim, good);
    const flooder = sim.addClient();
    const fs = connected(sim, flooder);
    flooder.endpoint.send(1, new Uint8Array(1000), sim.now); // the unreliable channel of the default layout
    sim.runUntil(sim.now + 50);
    const big = flooder.links[0]!.log.find((w) => w.dir === 'up' && w.kind === 'data' && w.size > 1000)!;
    const copy = Uint8Array.from(Buffer.from(big.hex!, 'hex'));
    const before = fs.session.connection.stats().duplicatePackets;
    for (let i = 0; i < 300; i++) sim.inject(flooder.links[0]!, copy);
    sim.runWhile(() => fs.end === undefined, sim.now + 1000);
    expect(fs.end, sim.label).toMatchObject({ reason: DisconnectReason.RateLimited });
    expect(fs.end!.text).toBe('rate limit: over 50000 bytes/s');
    // The burst is 100 000 bytes: the connection saw fewer than 100 of the copies, the rest were dropped unread.
    const dups = fs.session.connection.stats().duplicatePackets - before;
    expect(dups).toBeGreaterThan(80);
    expect(dups).toBeLessThan(100);
    sim.runWhile(() => flooder.end === undefined, sim.now + 2000);
    expect(flooder.end).toMatchObject({ reason: DisconnectReason.RateLimited });
    stillServed(sim, good);
    sim.checkHealthy();
  });

  it('malformed datagrams count: 3000 of them at once are cut at the 2 s burst, and the connection reads no more than that', () => {
    const sim = new EndpointSim({ seed: 23, link: LINK });
    const good = sim.addClient();
    connected(sim, good);
    const flooder = sim.addClient();
    const fs = connected(sim, flooder);
    for (let i = 0; i < 3000; i++) sim.inject(flooder.links[0]!, new Uint8Array([0xff, i & 0xff, 0, 0]));
    sim.runWhile(() => fs.end === undefined, sim.now + 1000);
    expect(fs.end, sim.label).toMatchObject({ reason: DisconnectReason.RateLimited });
    const malformed = fs.session.connection.stats().malformedPackets;
    expect(malformed).toBeGreaterThan(2 * D.packetsPerSecond - 50); // the handshake and pings took a few
    expect(malformed).toBeLessThanOrEqual(2 * D.packetsPerSecond);
    stillServed(sim, good);
    sim.checkHealthy();
  });

  it('a pending session counts too: CONNECT repeats while the host decides are refused with RateLimited (REJECT)', () => {
    const sim = new EndpointSim({
      seed: 24,
      link: LINK,
      server: { packetsPerSecond: 50 },
      decide: () => ({ ignore: true }),
      recordBytes: true,
    });
    const c = sim.addClient();
    sim.runUntil(sim.now + 20);
    const s = sim.sessionOf(c)!;
    expect(s.session.state).toBe('pending');
    const connect = Uint8Array.from(Buffer.from(c.links[0]!.log.find((w) => w.kind === 'connect')!.hex!, 'hex'));
    for (let i = 0; i < 200; i++) sim.inject(c.links[0]!, connect);
    sim.runWhile(() => c.end === undefined, sim.now + 2000);
    expect(s.end, sim.label).toMatchObject({ type: 'refused', reason: DisconnectReason.RateLimited });
    expect(c.end, sim.label).toMatchObject({ reason: DisconnectReason.RateLimited, by: 'peer', text: 'rate limit: over 50 datagrams/s' });
    expect(c.count('connected')).toBe(0);
  });

  it('a 60 Hz client with bursts (60 messages a second, 100 at once every 5 s, pings, acks) is never cut by the defaults', () => {
    const sim = new EndpointSim({ seed: 25, link: { conditions: { latency: 30, jitter: 5, loss: 0.02 } } });
    const c = sim.addClient();
    const s = connected(sim, c);
    const t0 = sim.now;
    for (let i = 0; i < 60 * 60; i++) sim.at(t0 + i * (1000 / 60), () => sim.clientSend(c, i % 300 === 0 ? 100 : 1));
    sim.runUntil(t0 + 61_000);
    expect([c.end, s.end]).toEqual([undefined, undefined]);
    expect(s.received.length).toBe(c.sent);
    expect(sim.server.counters.rateLimited).toBe(0);
    sim.checkHealthy();
  });
});

describe('server endpoint: per-source limits', () => {
  it('closes a link past maxPendingLinksPerSource at once; other sources open links as before', () => {
    const sim = new EndpointSim({ seed: 31, link: LINK, server: { handshakeTimeout: 2000 } });
    const idle = Array.from({ length: D.maxPendingLinksPerSource + 8 }, () => sim.openLink(undefined, { ...LINK, source: 'A' }));
    sim.runUntil(sim.now + 1);
    expect(idle.filter((l) => l.closedBy === 'server')).toHaveLength(8);
    expect(idle.slice(0, D.maxPendingLinksPerSource).every((l) => l.closedBy === undefined)).toBe(true);
    const refused = sim.serverEvents.filter(({ e }) => e.type === 'close-link').map(({ e }) => e.type === 'close-link' && e.reason);
    expect(refused).toEqual(Array(8).fill(`too many links in handshake from A (${D.maxPendingLinksPerSource})`));
    expect(sim.server.counters.linksRefusedPerSource).toBe(8);
    expect(sim.server.unboundLinks).toBe(D.maxPendingLinksPerSource);
    // Another source is not affected; the same source's client is refused until its pending links go.
    const b = sim.addClient({ link: { ...LINK, source: 'B' } });
    connected(sim, b);
    const a = sim.addClient({ link: { ...LINK, source: 'A' } });
    sim.runUntil(sim.now + 1);
    expect(a.links[0]!.closedBy).toBe('server');
    sim.runUntil(sim.now + 2100); // the idle links time out (handshakeTimeout)
    expect(sim.server.unboundLinks).toBe(0);
    const a2 = sim.addClient({ link: { ...LINK, source: 'A' } });
    connected(sim, a2);
    stillServed(sim, b);
    sim.checkHealthy();
  });

  it('refuses sessions past maxSessionsPerSource with ServerFull and a clear text; another source connects; a freed slot is reused', () => {
    const sim = new EndpointSim({ seed: 32, link: LINK, server: { newSessionsPerSecondPerSource: 1000, maxPendingLinksPerSource: 1000 } });
    const from = (source: string): SimClient => sim.addClient({ link: { ...LINK, source } });
    const crowd = Array.from({ length: D.maxSessionsPerSource + 6 }, () => from('10.0.0.1'));
    sim.runWhile(() => crowd.some((c) => !c.connected && c.end === undefined), sim.now + 5000);
    const refused = crowd.filter((c) => c.end !== undefined);
    expect(crowd.filter((c) => c.connected)).toHaveLength(D.maxSessionsPerSource);
    expect(refused).toHaveLength(6);
    for (const c of refused) {
      expect(c.end).toMatchObject({
        reason: DisconnectReason.ServerFull,
        by: 'peer',
        text: `too many sessions from one address (${D.maxSessionsPerSource})`,
      });
    }
    expect(sim.server.counters.refusedPerSource).toBeGreaterThanOrEqual(6);
    expect(sim.server.sessionCount).toBe(D.maxSessionsPerSource);
    const other = from('10.0.0.2');
    connected(sim, other);
    // One of the crowd leaves: its slot is free for the next from that address.
    crowd[0]!.endpoint.close(DisconnectReason.Closed, '', sim.now);
    sim.runUntil(sim.now + 500);
    const next = from('10.0.0.1');
    connected(sim, next);
    stillServed(sim, other);
    sim.checkHealthy();
  });

  it('refuses new sessions past newSessionsPerSecondPerSource with RateLimited; other sources are unaffected; the bucket refills', () => {
    const sim = new EndpointSim({ seed: 33, link: LINK });
    const from = (source: string, n: number): SimClient[] => Array.from({ length: n }, () => sim.addClient({ link: { ...LINK, source } }));
    const burst = 2 * D.newSessionsPerSecondPerSource;
    const first = from('A', burst + 10);
    const other = from('B', 5);
    sim.runWhile(() => [...first, ...other].some((c) => !c.connected && c.end === undefined), sim.now + 5000);
    expect(first.filter((c) => c.connected)).toHaveLength(burst);
    for (const c of first.filter((c) => !c.connected)) {
      expect(c.end).toMatchObject({
        reason: DisconnectReason.RateLimited,
        text: `over ${D.newSessionsPerSecondPerSource} new sessions/s from one address`,
      });
    }
    expect(other.every((c) => c.connected)).toBe(true);
    expect(sim.server.counters.refusedSourceRate).toBeGreaterThanOrEqual(10);
    // 1.5 s later 15 new sessions' worth has come back: 10 more connect.
    sim.runUntil(sim.now + 1500);
    const later = from('A', 10);
    sim.runWhile(() => later.some((c) => !c.connected && c.end === undefined), sim.now + 5000);
    expect(
      later.every((c) => c.connected),
      sim.label,
    ).toBe(true);
    sim.checkHealthy();
  });

  it('does not forget a source the moment it is idle: connecting and leaving at once still meets newSessionsPerSecondPerSource', () => {
    const sim = new EndpointSim({ seed: 34, link: LINK });
    const burst = 2 * D.newSessionsPerSecondPerSource;
    let refused = 0;
    for (let i = 0; i < burst + 5; i++) {
      const c = sim.addClient({ link: { ...LINK, source: 'A' } });
      sim.runWhile(() => !c.connected && c.end === undefined, sim.now + 2000);
      if (c.end) refused++;
      else c.endpoint.close(DisconnectReason.Closed, '', sim.now);
      sim.runWhile(() => sim.server.sessionCount > 0, sim.now + 2000); // gone before the next comes
    }
    expect(refused).toBeGreaterThanOrEqual(3); // ~25 ms per round: a handful of tokens came back meanwhile
    expect(sim.server.counters.refusedSourceRate).toBe(refused);
  });

  it("a flood of handshake datagrams closes that link once past one session's budget; the source may connect again once it refills", () => {
    const sim = new EndpointSim({ seed: 35, link: LINK });
    const b = sim.addClient({ link: { ...LINK, source: 'B' } });
    connected(sim, b);
    const noisy = sim.openLink(undefined, { ...LINK, source: 'A' });
    for (let i = 0; i < 5000; i++) sim.inject(noisy, new Uint8Array([0x80, i >> 8, i & 0xff]));
    sim.runUntil(sim.now + 10);
    expect(noisy.closedBy).toBe('server');
    expect(sim.server.counters.handshakeFloods).toBe(1);
    expect(sim.server.counters.strayDatagrams).toBe(2 * D.packetsPerSecond);
    stillServed(sim, b);
    sim.runUntil(sim.now + 2000);
    const a = sim.addClient({ link: { ...LINK, source: 'A' } });
    connected(sim, a);
    sim.checkHealthy();
  });

  it('keeps per-source memory bounded: 500 sources come and go, and once their buckets are full again nothing of them is left', () => {
    const sim = new EndpointSim({ seed: 36, link: LINK });
    const clients = Array.from({ length: 500 }, (_, i) => sim.addClient({ link: { ...LINK, source: `10.1.${i >> 8}.${i & 0xff}` } }));
    sim.runWhile(() => clients.some((c) => !c.connected), sim.now + 5000);
    expect(sim.server.sourceCount).toBe(500);
    for (const c of clients) c.endpoint.close(DisconnectReason.Closed, '', sim.now);
    sim.runWhile(() => sim.server.sessionCount > 0, sim.now + 2000);
    expect(sim.server.sessionCount).toBe(0);
    // Idle now, but each took a new-session token: remembered until the bucket is full (≤ 2 s of refill).
    expect(sim.server.sourceCount).toBe(500);
    sim.runUntil(sim.now + 2500);
    expect(sim.server.sourceCount).toBe(0);
    expect(sim.server.nextTimeout()).toBe(Infinity);
  });
});
