/**
 * ServerEndpoint and ClientEndpoint together, over LinkSimulator links in simulated time (endpoint-sim.ts):
 * the life of sessions — connect, close, timeouts, server full, RESUME and migration, TransportLost,
 * handshake timeouts, a host that never answers — and a fuzz test of random host actions. The harness
 * itself throws (naming the seed) on a second end, a duplicate or out-of-order reliable message, or a
 * sessionCount that disagrees with the sessions alive.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_LINKS_PER_SESSION,
  decodeControl,
  DisconnectReason,
  dropFirstMatching,
  encodeControl,
  Random,
  randomBytes,
  SESSION_TOKEN_SIZE,
  type ControlPacket,
} from '../src/index.js';
import { EndpointSim, kindOf, type SimClient, type SimSession } from './endpoint-sim.js';

const LINK = { conditions: { latency: 20, jitter: 4 } };

/** Connects `client` (and its server session); fails naming the seed if it does not within 5 s. */
function connected(sim: EndpointSim, client: SimClient): SimSession {
  sim.runWhile(() => !client.connected || !sim.sessionOf(client)?.connected, sim.now + 5000);
  const s = sim.sessionOf(client);
  expect(client.connected && s?.connected, `${sim.label} ${client.name} did not connect`).toBe(true);
  return s!;
}

/** Runs until both sides of a session received `count` numbered messages (or the deadline). */
function delivered(sim: EndpointSim, client: SimClient, s: SimSession, count: number, within = 30_000): void {
  sim.runWhile(() => client.received.length < count || s.received.length < count, sim.now + within);
  expect([client.received.length, s.received.length], sim.label).toEqual([count, count]);
}

/** Queues `count` numbered messages each way, `perMs` a millisecond from now on (both sides). */
function stream(sim: EndpointSim, c: SimClient, s: SimSession, count: number, perMs = 5): void {
  const t0 = sim.now;
  for (let i = 0; i * perMs < count; i++) {
    sim.at(t0 + i, () => {
      sim.clientSend(c, Math.min(perMs, count - i * perMs));
      sim.serverSend(s, Math.min(perMs, count - i * perMs));
    });
  }
}

function decodeAll(datagrams: Uint8Array[]): ControlPacket[] {
  return datagrams.map((d) => decodeControl(d));
}

describe('endpoints: a session from connect to close', () => {
  it('connects, carries reliable-ordered messages both ways exactly once in order, and ends once on each side at close()', () => {
    const sim = new EndpointSim({ seed: 1, link: { conditions: { latency: 20, jitter: 10, loss: 0.05 } } });
    const c = sim.addClient();
    const s = connected(sim, c);
    expect(sim.server.sessionCount).toBe(1);
    for (let i = 0; i < 20; i++) {
      sim.at(sim.now + i * 5, () => {
        sim.clientSend(c, 10);
        sim.serverSend(s, 10);
      });
    }
    delivered(sim, c, s, 200);
    expect(c.received).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const closedAt = sim.now;
    c.endpoint.close(DisconnectReason.Closed, 'bye', closedAt);
    sim.runUntil(closedAt + 3000);
    expect(c.count('disconnected'), sim.label).toBe(1);
    expect(c.end).toMatchObject({ reason: DisconnectReason.Closed, by: 'local' });
    expect(s.count('disconnected'), sim.label).toBe(1);
    expect(s.end).toMatchObject({ type: 'disconnected', reason: DisconnectReason.Closed, text: 'bye', by: 'peer' });
    expect(s.end!.t - closedAt).toBeLessThan(200);
    expect(sim.server.sessionCount).toBe(0);
    // The client host closed its transport when its session ended; the server holds nothing for it.
    expect(c.links[0]!.closedBy).toBe('client');
    expect(sim.server.unboundLinks).toBe(0);
    expect(c.endpoint.nextTimeout()).toBe(Infinity);
    sim.checkHealthy();
  });

  it('times out on both sides, once, when the link dies for good', () => {
    const sim = new EndpointSim({ seed: 2, link: LINK, signalCloses: false });
    const c = sim.addClient();
    const s = connected(sim, c);
    const diedAt = sim.now + 500;
    sim.at(diedAt, () => (c.links[0]!.dead = true));
    sim.runUntil(diedAt + 15_000);
    expect(s.count('disconnected'), sim.label).toBe(1);
    expect(s.end).toMatchObject({ reason: DisconnectReason.Timeout, by: 'local' });
    // About one timeout (10 s) after the last datagram got through.
    expect(s.end!.t - diedAt).toBeGreaterThan(8_900);
    expect(s.end!.t - diedAt).toBeLessThanOrEqual(10_100);
    expect(c.count('disconnected'), sim.label).toBe(1);
    expect(c.end).toMatchObject({ reason: DisconnectReason.Timeout, by: 'local' });
    // Before that, the client said once that the path went quiet.
    expect(c.events.filter(({ e }) => e.type === 'path-lost').map(({ e }) => e)).toEqual([{ type: 'path-lost', path: 0, why: 'silent' }]);
    expect(sim.server.sessionCount).toBe(0);
    sim.checkHealthy();
  });

  it('frees the slot of a timed-out session: while it lives a newcomer is refused (ServerFull), after it another connects', () => {
    const sim = new EndpointSim({ seed: 3, link: LINK, server: { maxSessions: 1 } });
    const a = sim.addClient();
    const sa = connected(sim, a);
    const diedAt = sim.now;
    a.links[0]!.dead = true;
    sim.runUntil(diedAt + 1000);
    const b = sim.addClient();
    sim.runWhile(() => b.end === undefined, sim.now + 5000);
    expect(b.end, sim.label).toMatchObject({ reason: DisconnectReason.ServerFull, by: 'peer' });
    expect(b.count('connected')).toBe(0);
    // The server heard nothing of B: no session, no event; A's session lives on.
    expect(sim.sessionOf(b)).toBeUndefined();
    expect(sim.serverEvents.filter(({ e }) => 'session' in e && e.session !== sa.session)).toEqual([]);
    expect(sim.server.counters.refusedFull).toBeGreaterThanOrEqual(1);
    expect(sim.server.counters.sessionsStarted).toBe(1);
    expect(sa.end).toBeUndefined();
    expect(sim.server.sessionCount).toBe(1);
    sim.runWhile(() => sa.end === undefined, diedAt + 15_000);
    expect(sa.end, sim.label).toMatchObject({ type: 'disconnected', reason: DisconnectReason.Timeout });
    expect(sim.server.sessionCount).toBe(0);
    const c = sim.addClient();
    const sc = connected(sim, c);
    sim.clientSend(c, 5);
    sim.serverSend(sc, 5);
    delivered(sim, c, sc, 5);
    expect(sim.server.sessionCount).toBe(1);
    sim.checkHealthy();
  });

  it('refuses the client past maxSessions with ServerFull, in a REJECT no larger than the CONNECT', () => {
    const sim = new EndpointSim({ seed: 4, link: LINK, server: { maxSessions: 2 } });
    const [a, b] = [sim.addClient(), sim.addClient()];
    connected(sim, a);
    connected(sim, b);
    // A lossy link, so the third client sends its CONNECT more than once.
    const c = sim.addClient({ link: { conditions: { latency: 20, loss: 0.5 } } });
    sim.runWhile(() => c.end === undefined, sim.now + 10_000);
    expect(c.end, sim.label).toMatchObject({ reason: DisconnectReason.ServerFull, by: 'peer' });
    const link = c.links[0]!;
    const connects = link.sizes('up', 'connect');
    const rejects = link.sizes('down', 'reject');
    expect(rejects.length).toBeGreaterThan(0);
    expect(Math.max(...rejects)).toBeLessThanOrEqual(Math.min(...connects));
    expect(sim.server.sessionCount).toBe(2);
    // One refusal (and one REJECT) per CONNECT that arrived, and no session for any of them.
    expect(sim.server.counters.refusedFull).toBe(link.sim.stats()['a-to-b'].delivered);
    expect(rejects).toHaveLength(sim.server.counters.refusedFull);
    expect(sim.sessions.size).toBe(2);
    sim.checkHealthy();
  });
});

describe('endpoints: RESUME', () => {
  it('refuses a RESUME with an unknown session id or a wrong token (UnknownSession), and the real session is unaffected', () => {
    const sim = new EndpointSim({ seed: 5, link: LINK });
    const c = sim.addClient();
    const s = connected(sim, c);
    const { id, token } = s.session;
    const forged = new Random(99);
    const wrongToken = token.slice();
    wrongToken[0] = token[0]! ^ 1;
    const attempts = [
      { id: (id ^ 0x5a5a) >>> 0, token: randomBytes(forged, SESSION_TOKEN_SIZE) }, // no such session
      { id, token: wrongToken }, // the real session, the wrong secret
    ].map(({ id, token }) => ({ link: sim.openLink(undefined), id, resume: encodeControl({ type: 'resume', connectionId: id, token }) }));
    for (const { link, resume } of attempts) sim.inject(link, resume);
    sim.runUntil(sim.now + 500);
    for (const { link, id: named, resume } of attempts) {
      const [reply, ...more] = decodeAll(link.arrived);
      expect(more).toEqual([]);
      expect(reply).toMatchObject({ type: 'reject', nonce: named, reason: DisconnectReason.UnknownSession });
      expect(link.sizes('down', 'reject')[0]).toBeLessThanOrEqual(resume.length);
    }
    expect(sim.server.counters.resumesRefused).toBe(2);
    expect(sim.server.counters.resumes).toBe(0);
    // Nothing moved: the session still sends on its own link only, and carries on.
    expect(s.count('moved')).toBe(0);
    expect(s.session.current).toBe(c.links[0]!.id);
    expect([...s.session.links]).toEqual([c.links[0]!.id]);
    sim.clientSend(c, 20);
    sim.serverSend(s, 20);
    delivered(sim, c, s, 20);
    expect(s.end).toBeUndefined();
    expect(c.end).toBeUndefined();
    sim.checkHealthy();
  });

  it('migrates mid-stream: the path closes with 1000 messages each way in flight, a new path takes over, every message arrives once and in order', () => {
    const sim = new EndpointSim({ seed: 6, link: { conditions: { latency: 30, jitter: 10, loss: 0.02 } } });
    const c = sim.addClient();
    const s = connected(sim, c);
    const t0 = sim.now;
    for (let i = 0; i < 100; i++) {
      sim.at(t0 + i, () => {
        sim.clientSend(c, 10);
        sim.serverSend(s, 10);
      });
    }
    sim.at(t0 + 60, () => sim.closeLink(c.links[0]!, 'network'));
    sim.at(t0 + 200, () => sim.addPath(c, { conditions: { latency: 15, jitter: 5, loss: 0.02 } }));
    delivered(sim, c, s, 1000);
    sim.runUntil(sim.now + 2000); // a late duplicate would show now
    expect(c.sent).toBe(1000);
    expect(s.sent).toBe(1000);
    expect(c.received).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(s.received).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(c.events.filter(({ e }) => e.type === 'path-lost').map(({ e }) => e)).toEqual([{ type: 'path-lost', path: 0, why: 'closed' }]);
    expect(c.events.filter(({ e }) => e.type === 'path-changed').map(({ e }) => e)).toEqual([
      { type: 'path-changed', path: 1, previous: undefined },
    ]);
    expect(s.events.filter(({ e }) => e.type === 'moved').map(({ e }) => e.type === 'moved' && [e.link, e.previous])).toEqual([
      [1, undefined],
    ]);
    expect(c.endpoint.path).toBe(1);
    expect(s.session.current).toBe(1);
    expect(sim.server.counters.resumes).toBe(1);
    sim.checkHealthy();
  });
});

describe('endpoints: links per session', () => {
  it(`keeps at most MAX_LINKS_PER_SESSION links: RESUMEs on ever new links close the oldest, and the session carries on`, () => {
    const sim = new EndpointSim({ seed: 8, link: LINK });
    const c = sim.addClient();
    const s = connected(sim, c);
    const { id, token } = s.session;
    // The session's own client (it has the token) RESUMEs on 20 new links, as a hostile one would to fill the
    // transports' link tables.
    const links = Array.from({ length: 20 }, () => sim.openLink(undefined));
    for (const link of links) {
      sim.inject(link, encodeControl({ type: 'resume', connectionId: id, token }));
      sim.runUntil(sim.now + 20);
    }
    const resumed = sim.server.counters.resumes; // (the link may lose a RESUME)
    expect(resumed).toBeGreaterThan(15);
    expect(s.session.links.size).toBe(MAX_LINKS_PER_SESSION);
    expect(sim.server.counters.linksReplaced).toBe(resumed + 1 - MAX_LINKS_PER_SESSION);
    expect(s.end).toBeUndefined();
  });
});

describe('endpoints: resume races', () => {
  // Path 1 answers slowly, path 2 quickly: the server takes path 1's RESUME first and path 2's last, the client
  // hears RESUMED on path 2 first and on path 1 last: each side's "latest" is a different path.
  const slowDown = { up: { latency: 10 }, down: { latency: 100 } };
  const fastDown = { up: { latency: 20 }, down: { latency: 10 } };
  for (const signalCloses of [true, false]) {
    for (const old of ['alive', 'closed'] as const) {
      it(`two paths added at once (old path ${old}, closes ${signalCloses ? '' : 'not '}signalled): both sides end up sending on one path, no message lost or doubled`, () => {
        const sim = new EndpointSim({ seed: 7, link: LINK, signalCloses });
        const c = sim.addClient();
        const s = connected(sim, c);
        stream(sim, c, s, 500);
        sim.runUntil(sim.now + 50);
        if (old === 'closed') sim.closeLink(c.links[0]!, 'network');
        sim.addPath(c, slowDown);
        sim.addPath(c, fastDown);
        sim.runUntil(sim.now + 1000);
        // Both paths resumed; the client settled on one and closed the others; the server sends there too.
        expect(c.count('path-changed'), sim.label).toBe(2);
        expect(sim.server.counters.resumes).toBe(2);
        expect(c.endpoint.path, sim.label).toBeDefined();
        expect(s.session.current, sim.label).toBe(c.endpoint.path);
        if (signalCloses) expect([...s.session.links]).toEqual([c.endpoint.path]);
        delivered(sim, c, s, 500);
        // And it stays up: traffic keeps flowing on the agreed path long after.
        sim.runUntil(sim.now + 15_000);
        expect(s.end, sim.label).toBeUndefined();
        expect(c.end, sim.label).toBeUndefined();
        sim.clientSend(c, 10);
        sim.serverSend(s, 10);
        delivered(sim, c, s, 510);
        expect(s.session.current).toBe(c.endpoint.path);
        sim.checkHealthy();
      });
    }
  }

  it('a RESUME is repeated when its RESUMED is lost: one move, every message once', () => {
    const sim = new EndpointSim({ seed: 8, link: LINK });
    const c = sim.addClient();
    const s = connected(sim, c);
    stream(sim, c, s, 500);
    sim.runUntil(sim.now + 30);
    sim.closeLink(c.links[0]!, 'network');
    const path = sim.addPath(c, { ...LINK, rules: [dropFirstMatching((d) => d.direction === 'b-to-a' && kindOf(d.bytes) === 'resumed')] });
    sim.runUntil(sim.now + 2000);
    expect(path.sizes('up', 'resume').length, sim.label).toBeGreaterThanOrEqual(2);
    expect(path.sizes('down', 'resumed').length).toBe(path.sizes('up', 'resume').length);
    expect(sim.server.counters.resumes).toBe(1);
    expect(s.count('moved')).toBe(1);
    expect(c.count('path-changed')).toBe(1);
    expect(c.endpoint.path).toBe(path.id);
    expect(s.session.current).toBe(path.id);
    delivered(sim, c, s, 500);
    sim.runUntil(sim.now + 2000);
    expect(c.received).toHaveLength(500);
    expect(s.received).toHaveLength(500);
    sim.checkHealthy();
  });
});

describe('endpoints: moves cut short', () => {
  // Regression: the client's path timers (RESUME retries, the TransportLost deadline) only run while connected,
  // but nextTimeout() still offered them while the connection was disconnecting: a client closed while resuming
  // asked to be woken "now" over and over until its last DISCONNECT copy left (a busy loop; in simulated time, forever).
  it('close() while a path is being resumed: no wake-up at now without progress, one end', () => {
    const sim = new EndpointSim({ seed: 14, link: LINK, client: { resumeInterval: 5 }, maxSteps: 10_000 });
    const c = sim.addClient();
    connected(sim, c);
    sim.addPath(c, { ...LINK, rules: [() => true] }); // its RESUMEs never arrive
    sim.runUntil(sim.now + 12);
    c.endpoint.close(DisconnectReason.Closed, 'bye', sim.now);
    sim.runUntil(sim.now + 1000);
    expect(c.end, sim.label).toMatchObject({ reason: DisconnectReason.Closed, by: 'local' });
    expect(c.count('disconnected')).toBe(1);
    expect(c.endpoint.nextTimeout()).toBe(Infinity);
  });

  // Regression: a DISCONNECT that came on a path still waiting for its RESUMED was dropped, so a session the server
  // ended during a move ended on the client only much later, for another reason (TransportLost or Timeout).
  for (const old of ['alive', 'closed'] as const) {
    it(`the server ends the session while the client moves it (RESUMED lost, old path ${old}): the client hears why, at once`, () => {
      const sim = new EndpointSim({ seed: 15, link: LINK });
      const c = sim.addClient();
      const s = connected(sim, c);
      if (old === 'closed') sim.closeLink(c.links[0]!, 'network');
      sim.addPath(c, { ...LINK, rules: [dropFirstMatching((d) => d.direction === 'b-to-a' && kindOf(d.bytes) === 'resumed')] });
      sim.runWhile(() => s.count('moved') === 0, sim.now + 1000);
      const kickedAt = sim.now;
      sim.server.close(s.session, DisconnectReason.Kicked, 'kicked', kickedAt);
      sim.runUntil(kickedAt + 12_000);
      expect(s.end).toMatchObject({ type: 'disconnected', reason: DisconnectReason.Kicked, by: 'local' });
      expect(c.end, sim.label).toMatchObject({ reason: DisconnectReason.Kicked, text: 'kicked', by: 'peer' });
      expect(c.end!.t - kickedAt).toBeLessThan(100);
      expect(c.count('disconnected')).toBe(1);
      expect(c.count('path-changed')).toBe(0);
      sim.checkHealthy();
    });
  }
});

describe('endpoints: ends without a path, a handshake or an answer', () => {
  it('ends the client with TransportLost after resumeTimeout when no new path comes; the server times the session out later', () => {
    const sim = new EndpointSim({ seed: 9, link: LINK, client: { resumeTimeout: 3000 } });
    const c = sim.addClient();
    const s = connected(sim, c);
    const cutAt = sim.now + 100;
    sim.at(cutAt, () => sim.closeLink(c.links[0]!, 'network'));
    sim.runUntil(cutAt + 15_000);
    expect(c.count('path-lost')).toBe(1);
    expect(c.count('disconnected'), sim.label).toBe(1);
    expect(c.end).toMatchObject({ reason: DisconnectReason.TransportLost, by: 'local' });
    expect(c.end!.t - cutAt).toBeGreaterThanOrEqual(3000);
    expect(c.end!.t - cutAt).toBeLessThan(3100);
    expect(s.count('disconnected'), sim.label).toBe(1);
    expect(s.end).toMatchObject({ reason: DisconnectReason.Timeout, by: 'local' });
    expect(s.end!.t).toBeGreaterThan(c.end!.t);
    expect(sim.server.sessionCount).toBe(0);
    sim.checkHealthy();
  });

  it('closes a link that says neither CONNECT nor RESUME within handshakeTimeout, silent or sending garbage', () => {
    const sim = new EndpointSim({ seed: 10, link: LINK, server: { handshakeTimeout: 2000 } });
    const silent = sim.openLink(undefined);
    const noisy = sim.openLink(undefined);
    const stray = [
      new Uint8Array([0xff, 1, 2, 3]), // no packet kind
      new Uint8Array([0x80, 0, 1, 0, 0, 0]), // a data packet (no acks) before any handshake
      new Uint8Array([0x44, 1, 2]), // a truncated control packet
      new Uint8Array(0),
    ];
    stray.forEach((d, i) => sim.at(100 + i * 300, () => sim.inject(noisy, d)));
    const client = sim.addClient(); // a real client beside them is not touched
    expect(sim.server.unboundLinks).toBe(3);
    sim.runUntil(1999);
    expect(sim.serverEvents.filter(({ e }) => e.type === 'close-link')).toEqual([]);
    sim.runUntil(2100);
    const closed = sim.serverEvents.filter(({ e }) => e.type === 'close-link').map(({ t, e }) => e.type === 'close-link' && [t, e.link]);
    expect(closed).toEqual([
      [2000, silent.id],
      [2000, noisy.id],
    ]);
    expect([silent.closedBy, noisy.closedBy]).toEqual(['server', 'server']);
    expect(sim.server.unboundLinks).toBe(0);
    expect(sim.server.counters.handshakeTimeouts).toBe(2);
    expect(sim.server.counters.strayDatagrams).toBe(stray.length);
    expect(sim.server.sessionCount).toBe(1);
    expect(silent.arrived).toEqual([]);
    expect(noisy.arrived).toEqual([]);
    expect(client.connected).toBe(true);
    sim.checkHealthy();
  });

  it('a connect request the host answers only after the client gave up: refused by the timeout, no connected/disconnected, accept() then a no-op', () => {
    let request: SimSession | undefined;
    const sim = new EndpointSim({
      seed: 11,
      link: LINK,
      decide: ({ session }) => {
        request = session;
        return { accept: true, after: 30_000 };
      },
    });
    const c = sim.addClient();
    sim.runUntil(25_000);
    expect(c.end, sim.label).toMatchObject({ reason: DisconnectReason.ConnectTimeout, by: 'local' });
    expect(request).toBeDefined();
    const s = request!;
    expect(s.end, sim.label).toMatchObject({ type: 'refused', reason: DisconnectReason.Timeout });
    expect(s.events.map(({ e }) => e.type)).toEqual(['connect-request', 'refused']);
    expect(sim.server.sessionCount).toBe(0);
    sim.runUntil(40_000); // the late accept() runs at 30 s
    expect(s.events.map(({ e }) => e.type)).toEqual(['connect-request', 'refused']);
    expect(s.session.state).toBe('disconnected');
    expect(sim.server.sessionCount).toBe(0);
    expect(c.links[0]!.sizes('down', 'accept')).toEqual([]);
    expect(sim.server.nextTimeout()).toBe(Infinity);
    sim.checkHealthy();
  });
});

describe('endpoints: determinism', () => {
  /** A lossy run with a migration, every datagram's bytes logged. */
  function run(seed: number): string[] {
    const sim = new EndpointSim({ seed, recordBytes: true, link: { conditions: { latency: 25, jitter: 15, loss: 0.1, duplicate: 0.05 } } });
    const c = sim.addClient({ payload: new Uint8Array([1, 2, 3]) });
    const s = connected(sim, c);
    stream(sim, c, s, 200, 2);
    sim.at(sim.now + 40, () => sim.closeLink(c.links[0]!, 'network'));
    sim.at(sim.now + 120, () => sim.addPath(c));
    delivered(sim, c, s, 200);
    c.endpoint.close(DisconnectReason.Closed, 'done', sim.now);
    sim.runUntil(sim.now + 1000);
    return sim.wire();
  }

  it('gives the same bytes on every link for the same seed, and different ones for another', () => {
    const a = run(12);
    expect(a.length).toBeGreaterThan(100);
    expect(run(12)).toEqual(a);
    expect(run(13)).not.toEqual(a);
  });
});

describe('endpoints: random host actions (fast-check)', () => {
  type Action =
    | { type: 'connect' }
    | { type: 'send'; who: number; count: number; fromServer: boolean }
    | { type: 'close'; who: number; byServer: boolean }
    | { type: 'drop-link'; who: number }
    | { type: 'add-path'; who: number }
    | { type: 'cut'; who: number; silent: boolean }
    | { type: 'delay'; ms: number };

  const who = fc.nat({ max: 7 });
  const action: fc.Arbitrary<Action> = fc.oneof(
    { arbitrary: fc.constant({ type: 'connect' as const }), weight: 3 },
    {
      arbitrary: fc.record({ type: fc.constant('send' as const), who, count: fc.integer({ min: 1, max: 60 }), fromServer: fc.boolean() }),
      weight: 6,
    },
    fc.record({ type: fc.constant('close' as const), who, byServer: fc.boolean() }),
    fc.record({ type: fc.constant('drop-link' as const), who }),
    { arbitrary: fc.record({ type: fc.constant('add-path' as const), who }), weight: 2 },
    fc.record({ type: fc.constant('cut' as const), who, silent: fc.boolean() }),
    fc.record({ type: fc.constant('delay' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
  );
  const scenario = fc.record({
    seed: fc.integer({ min: 0, max: 0x7fffffff }),
    signalCloses: fc.boolean(),
    maxSessions: fc.integer({ min: 1, max: 3 }),
    acceptAfter: fc.integer({ min: 0, max: 400 }),
    /** Every nth connect request is rejected (0: none). */
    rejectEvery: fc.nat({ max: 3 }),
    /** The client host opens a new path this long after 'path-lost' (undefined: it waits for the test). */
    reopenAfter: fc.option(fc.integer({ min: 0, max: 1500 }), { nil: undefined }),
    loss: fc.double({ min: 0, max: 0.2, noNaN: true }),
    latency: fc.integer({ min: 1, max: 60 }),
    jitter: fc.integer({ min: 0, max: 20 }),
    actions: fc.array(fc.tuple(action, fc.integer({ min: 0, max: 400 })), { minLength: 1, maxLength: 30, size: 'max' }),
  });
  const TIMEOUT = 3000;

  function apply(sim: EndpointSim, a: Action): void {
    const now = sim.now;
    if (a.type === 'connect') return void sim.addClient();
    if (a.type === 'delay') return sim.runUntil(now + a.ms);
    const c = sim.clients[a.who % Math.max(1, sim.clients.length)];
    if (!c) return;
    const s = sim.sessionOf(c);
    switch (a.type) {
      case 'send':
        if (!a.fromServer) sim.clientSend(c, a.count);
        else if (s) sim.serverSend(s, a.count);
        return;
      case 'close':
        if (!a.byServer) c.endpoint.close(DisconnectReason.Closed, 'bye', now);
        else if (s) sim.server.close(s.session, DisconnectReason.Kicked, 'kicked', now);
        return;
      case 'drop-link': {
        const link = s && sim.server.dropLink(s.session, now);
        if (link !== undefined) sim.closeLink(sim.links[link]!, 'server');
        return;
      }
      case 'add-path':
        sim.addPath(c);
        return;
      case 'cut': {
        const path = c.endpoint.path;
        if (path === undefined) return;
        if (a.silent) sim.links[path]!.dead = true;
        else sim.closeLink(sim.links[path]!, 'network');
        return;
      }
    }
  }

  it('never throws, ends every session once per side, never delivers a reliable message twice or out of order', () => {
    fc.assert(
      fc.property(scenario, (p) => {
        let requests = 0;
        const sim = new EndpointSim({
          seed: p.seed,
          signalCloses: p.signalCloses,
          server: { maxSessions: p.maxSessions, handshakeTimeout: 2000, connection: { timeout: TIMEOUT } },
          client: { connection: { timeout: TIMEOUT }, silence: 1000, resumeTimeout: 2000, resumeInterval: 100 },
          link: { conditions: { loss: p.loss, latency: p.latency, jitter: p.jitter } },
          decide: () =>
            p.rejectEvery > 0 && ++requests % p.rejectEvery === 0
              ? { reject: DisconnectReason.Rejected, after: p.acceptAfter }
              : { accept: true, after: p.acceptAfter },
          onClientEvent: (c, e, now) => {
            if (e.type === 'path-lost' && p.reopenAfter !== undefined) sim.at(now + p.reopenAfter, () => sim.addPath(c));
          },
          maxSteps: 100_000,
        });
        for (const [a, gap] of p.actions) {
          apply(sim, a);
          sim.runUntil(sim.now + gap);
        }
        // Every client leaves; then everything that is left times out.
        for (const c of sim.clients) c.endpoint.close(DisconnectReason.Closed, 'done', sim.now);
        sim.runUntil(sim.now + 4 * TIMEOUT);
        for (const c of sim.clients) sim.check(c.count('disconnected') === 1, `${c.name} ended ${c.count('disconnected')} times`);
        for (const s of sim.sessions.values()) {
          sim.check(
            s.count('disconnected') + s.count('refused') === 1,
            `session ${s.session.id} ended ${s.count('disconnected') + s.count('refused')} times`,
          );
          sim.check(
            s.count('disconnected') === (s.connected ? 1 : 0),
            `session ${s.session.id}: 'disconnected' without 'connected' or the reverse`,
          );
        }
        sim.check(sim.server.sessionCount === 0, `${sim.server.sessionCount} session(s) left`);
        sim.check(sim.server.unboundLinks === 0, `${sim.server.unboundLinks} unbound link(s) left`);
        sim.checkHealthy();
      }),
      { numRuns: 300 },
    );
  });
});
