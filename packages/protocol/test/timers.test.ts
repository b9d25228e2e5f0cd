/**
 * The timer table (timer-table.ts): what nextTimeout() promises, poll() does. Regression for a connection
 * moved from a reliable transport to an unreliable one (an upgrade to WebRTC): retransmission was switched
 * on for nextTimeout() but not for the timers poll() ran, so a tail loss was never resent and the host was
 * asked to wake "now" forever.
 */

import { describe, expect, it } from 'vitest';
import { ConnectionPair, Simulation, type SimEndpoint, LinkSimulator, Connection, Random, randomBytes } from '../src/index.js';

/** Counts the polls a host makes, like a real event loop would. */
function counting(pair: ConnectionPair): { polls: () => number } {
  let n = 0;
  for (const c of [pair.server, pair.client]) {
    const poll = c.poll.bind(c);
    c.poll = (now: number) => {
      n++;
      return poll(now);
    };
  }
  return { polls: () => n };
}

describe('timer table', () => {
  it('after an upgrade from a reliable to an unreliable transport, a tail loss is resent with a bounded number of polls', () => {
    const got: string[] = [];
    let dropping = false;
    const ch = [{ kind: 'reliable-ordered' as const }];
    const pair = new ConnectionPair({
      // Both start on a reliable transport (WebSocket): no retransmission.
      server: { channels: ch, retransmission: false },
      client: { channels: ch, retransmission: false },
      link: { seed: 11, conditions: { latency: 20 }, rules: [(d) => dropping && d.direction === 'b-to-a' && d.bytes.length > 8] },
      onServerEvent: (e) => {
        if (e.type === 'message') got.push(new TextDecoder().decode(e.data));
      },
    });
    const host = counting(pair);
    expect(pair.connect()).toBe(true);
    // The upgrade: the session moves to WebRTC (unreliable), both sides learn it.
    const t = pair.sim.now;
    pair.client.transportChanged(t, false);
    pair.server.transportChanged(t, false);
    expect(pair.client.retransmission).toBe(true);
    // Tail loss: the last five messages go out while their packets are dropped, then the link heals.
    pair.sim.at(t + 100, (now) => {
      dropping = true;
      for (const who of ['A', 'B', 'C', 'D', 'E']) pair.client.send(0, new TextEncoder().encode(who), now);
    });
    pair.sim.at(t + 150, () => (dropping = false));
    const before = host.polls();
    pair.sim.runUntil(t + 10_000);
    expect(got).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(pair.client.stats().retransmissions).toBeGreaterThan(0);
    // Ten simulated seconds: pings, keepalives, acks and a few probes, not a busy loop.
    expect(host.polls() - before).toBeLessThan(500);
  });

  it('never asks to be woken for a timer that poll() then does not run', () => {
    // A connection whose every timer is exercised (pings, acks, keepalive, loss, reassembly), sampled often,
    // started on a reliable transport and then upgraded to an unreliable one.
    const channels = [{ kind: 'reliable-ordered' as const }, { kind: 'unreliable' as const }];
    const pair = new ConnectionPair({
      server: { channels, retransmission: false },
      client: { channels, retransmission: false },
      link: { seed: 5, conditions: { loss: 0.2, latency: 15, jitter: 10 } },
    });
    pair.connect();
    const t0 = pair.sim.now;
    pair.client.transportChanged(t0, false);
    pair.server.transportChanged(t0, false);
    for (let i = 0; i < 200; i++) {
      pair.sim.at(t0 + i * 20, (now) => {
        pair.client.send(0, new Uint8Array(30), now);
        pair.client.send(1, new Uint8Array(i % 10 === 0 ? 5000 : 40), now); // some fragmented unreliable ones
      });
    }
    // Every wake-up must make progress: at the promised time, poll() leaves nextTimeout() later than it was.
    let stuck = 0;
    for (let k = 0; k < 400; k++) {
      pair.sim.at(t0 + k * 13, () => {
        for (const c of [pair.client, pair.server]) {
          const due = c.nextTimeout();
          // Only wake-ups due by the next step: polling far ahead would run a connection's clock past the link's.
          if (!Number.isFinite(due) || due > pair.sim.now + 13) continue;
          c.poll(due);
          if (c.nextTimeout() <= due && c.stats().packetsInFlight < 8192) stuck++;
        }
      });
    }
    pair.sim.runUntil(t0 + 8000);
    expect(stuck).toBe(0);
  });
});

describe('clock from the handshake', () => {
  /** A connection whose host's clock reads `skew` ms more than the simulation's. */
  class SkewedHost implements SimEndpoint {
    constructor(
      readonly connection: Connection,
      private readonly skew: number,
      private readonly random: Random,
    ) {}
    handle(d: Uint8Array, now: number): void {
      this.connection.handle(d, now + this.skew);
      this.drain(now);
    }
    poll(now: number): Uint8Array[] {
      const out = this.connection.poll(now + this.skew);
      this.drain(now);
      return out;
    }
    nextTimeout(): number {
      return this.connection.nextTimeout() - this.skew;
    }
    private drain(now: number): void {
      for (let e = this.connection.pollEvent(); e; e = this.connection.pollEvent()) {
        // The server's host takes 40 ms to decide (an auth check): the sample must not count that hold.
        if (e.type === 'connect-request') {
          const c = this.connection;
          const at = now + 40;
          pending.push(() => c.accept(at + this.skew, 7, randomBytes(this.random, 16)));
          sim.at(at, () => pending.shift()!());
        }
      }
    }
  }
  const pending: (() => void)[] = [];
  let sim: Simulation;

  // Host clocks are monotonic and non-negative (performance.now()); either may be far ahead of the other.
  for (const [serverClock, clientClock] of [
    [0, 0],
    [12_345.5, 0],
    [0, 98_765],
  ] as const) {
    const skew = serverClock - clientClock;
    it(`knows the server's clock (skew ${skew} ms) and the RTT when connected, before any ping`, () => {
      const server = new SkewedHost(Connection.server({ pingInterval: 0 }), serverClock, new Random(1));
      const client = Connection.client({ random: new Random(2), pingInterval: 0 });
      const clientHost = new SkewedHost(client, clientClock, new Random(3));
      const link = new LinkSimulator({ seed: 9, conditions: { latency: 30, jitter: 6 } });
      sim = new Simulation(server, clientHost, link);
      client.connect(clientClock);
      sim.runWhile(() => client.state !== 'connected', 5000);
      expect(client.state).toBe('connected');
      const now = sim.now + clientClock;
      const s = client.stats(now);
      // One sample from the handshake, no ping yet.
      expect(s.ping.sent).toBe(0);
      expect(s.ping.clockSamples).toBe(1);
      // Within half the round trip of the truth (NTP's bound), and the 40 ms hold is not in the RTT.
      const rtt = s.rtt.smoothed;
      expect(rtt).toBeGreaterThanOrEqual(60);
      expect(rtt).toBeLessThan(80);
      expect(Math.abs(client.peerTime(now) - (sim.now + serverClock))).toBeLessThanOrEqual(rtt / 2);
      expect(s.ping.clockOffset).toBeDefined();
    });
  }
});

describe('no ambient randomness', () => {
  function wire(seed: number): string[] {
    const log: string[] = [];
    const pair = new ConnectionPair({
      client: { random: new Random(seed) },
      seed,
      link: {
        seed,
        conditions: { loss: 0.1, latency: 20 },
        rules: [(d) => (log.push(`${d.direction} ${Buffer.from(d.bytes).toString('hex')}`), false)],
      },
    });
    pair.connect();
    for (let i = 0; i < 50; i++) pair.sim.at(pair.sim.now + i * 7, (now) => pair.client.send(0, new Uint8Array([i]), now));
    pair.sim.runUntil(pair.sim.now + 3000);
    return log;
  }

  it('gives the same bytes on the wire for the same seed, and different ones for another', () => {
    const a = wire(42);
    expect(a.length).toBeGreaterThan(50);
    expect(wire(42)).toEqual(a);
    expect(wire(43)).not.toEqual(a);
  });
});

describe('internal errors', () => {
  it('are counted apart from malformed input, in stats and in the trace', () => {
    const seen: string[] = [];
    let explode = false;
    const pair = new ConnectionPair({
      server: {
        trace: (e) => {
          seen.push(e.type);
          if (explode && e.type === 'packet-received') throw new Error('a bug of ours');
        },
      },
    });
    pair.connect();
    explode = true;
    pair.client.send(0, new Uint8Array([1]), pair.sim.now);
    pair.sim.runUntil(pair.sim.now + 100);
    const s = pair.server.stats();
    expect(s.internalErrors).toBeGreaterThan(0);
    expect(s.malformedPackets).toBe(0);
    expect(seen).toContain('internal-error');
    // Garbage is still malformed, not internal.
    explode = false;
    pair.server.handle(new Uint8Array([0xff, 1, 2]), pair.sim.now);
    expect(pair.server.stats().malformedPackets).toBe(1);
  });
});
