/**
 * Structured fuzzing of the ServerEndpoint (packages/protocol/src/server-endpoint.ts), sans-I/O in
 * simulated time: one honest ClientEndpoint keeps a session on link 0 while hostile links open, close and
 * send valid-looking CONNECTs (the server's own layout, or not), RESUMEs naming the honest session with a
 * wrong token, data packets for the layout, other control packets and garbage — each structure with its
 * fields mutated (structured.ts). packages/protocol/test/endpoint.test.ts drives honest endpoints through
 * random host actions; this is the hostile side. After every step:
 *  - nothing throws, and sessionCount is exactly the sessions announced and not yet ended;
 *  - a link that never had a session answered with no more bytes than it sent (no amplification);
 *  - every session ends at most once, 'connected' before 'disconnected';
 * and at the end:
 *  - no connection counted an internal error; every session counted at least the datagrams it could not
 *    decode (inspectPacket says malformed) that reached it while connected;
 *  - the honest session never moved or ended, and every message it sent arrived once, in order;
 *  - once the handshake timeout and the protocol timeout have passed, only the honest session and no
 *    unbound link remain.
 */

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  ClientEndpoint,
  decodeControl,
  encodeControl,
  inspectPacket,
  Random,
  ServerEndpoint,
  STANDARD_CHANNELS,
  type ConnectionOptions,
  type ControlPacket,
  type EndpointSession,
} from '@volley/protocol';
import { FUZZ_TIMEOUT, fuzzParams } from './budget.js';
import { channelSpecArb, controlArb, controlFields, dataPacketArb, dataPacketFields, type Modes } from './formats.js';
import { bytes, fuzzed, mutate, mutationArb, u32, u8, type Mutation } from './structured.js';

const CHANNELS = [...STANDARD_CHANNELS];
/** Which channels carry ids in the standard layout (reliable kinds and unreliable-sequenced). */
const MODES: Modes = CHANNELS.map((c) => (c.kind === 'unreliable' ? 'plain' : 'id'));
const WITH_IDS = MODES.flatMap((m, ch) => (m === 'id' ? [ch] : []));
const CONNECTION: Omit<ConnectionOptions, 'retransmission' | 'nonce' | 'random'> = { channels: CHANNELS, timeout: 3000 };
const HANDSHAKE_TIMEOUT = 1000;
const HOSTILE_LINKS = 6;
const HONEST = 0;

/** The CONNECT an honest client sends for this layout: the template hostile CONNECTs start from. */
const TEMPLATE = (() => {
  const c = new ClientEndpoint<number>({ connection: CONNECTION, random: new Random(1) });
  c.connect(0, false, new Uint8Array(0), 0);
  const p = decodeControl(c.poll(0)[0]!.datagram);
  if (p.type !== 'connect') throw new Error('the first datagram of a client is not a CONNECT');
  return p;
})();

const connectArb: fc.Arbitrary<ControlPacket> = fc.record({
  type: fc.constant('connect' as const),
  version: fc.oneof({ arbitrary: fc.constant(TEMPLATE.version), weight: 5 }, fc.nat({ max: 255 })),
  nonce: fc.nat({ max: 0xffffffff }),
  attempt: fc.nat({ max: 255 }),
  maxAckDelay: fc.oneof(fc.constant(TEMPLATE.maxAckDelay), fc.nat({ max: 100 })),
  channels: fc.oneof({ arbitrary: fc.constant(TEMPLATE.channels), weight: 5 }, fc.array(channelSpecArb, { maxLength: 5 })),
  payload: fc.uint8Array({ maxLength: 40 }),
});

/** A RESUME aimed at the honest session (id and token known only at run time), its token wrong. */
interface ResumeAttack {
  kind: 'resume';
  honestId: boolean;
  id: number;
  flip: number;
  mutations: Mutation[];
}

type Hostile = { kind: 'bytes'; bytes: Uint8Array } | ResumeAttack;

const hostileArb: fc.Arbitrary<Hostile> = fc.oneof(
  { arbitrary: fuzzed(connectArb, controlFields, 2).map((f) => ({ kind: 'bytes' as const, bytes: f.bytes })), weight: 5 },
  { arbitrary: fuzzed(dataPacketArb(MODES), dataPacketFields(MODES)).map((f) => ({ kind: 'bytes' as const, bytes: f.bytes })), weight: 4 },
  { arbitrary: fuzzed(controlArb, controlFields).map((f) => ({ kind: 'bytes' as const, bytes: f.bytes })), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('resume' as const),
      honestId: fc.boolean(),
      id: fc.nat({ max: 0xffffffff }),
      flip: fc.nat({ max: 16 * 8 - 1 }),
      mutations: fc.array(mutationArb, { maxLength: 2 }),
    }),
    weight: 3,
  },
  { arbitrary: fc.uint8Array({ maxLength: 80 }).map((b) => ({ kind: 'bytes' as const, bytes: b })), weight: 1 },
);

type Op =
  | { op: 'open'; link: number; reliable: boolean }
  | { op: 'close'; link: number }
  | { op: 'send'; link: number; datagram: Hostile }
  | { op: 'honest'; count: number }
  | { op: 'wait'; ms: number };

const link = fc.integer({ min: 1, max: HOSTILE_LINKS });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('open' as const), link, reliable: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('close' as const), link }), weight: 1 },
  { arbitrary: fc.record({ op: fc.constant('send' as const), link, datagram: hostileArb }), weight: 8 },
  { arbitrary: fc.record({ op: fc.constant('honest' as const), count: fc.integer({ min: 1, max: 20 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 1500 }) }), weight: 2 },
);

const scenarioArb = fc.record({
  seed: fc.nat({ max: 0x7fffffff }),
  honestReliable: fc.boolean(),
  maxSessions: fc.integer({ min: 1, max: 4 }),
  ops: fc.array(opArb, { minLength: 5, maxLength: 60, size: 'medium' }),
  reliable: fc.array(fc.boolean(), { minLength: HOSTILE_LINKS, maxLength: HOSTILE_LINKS }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never;

interface Tracked {
  session: EndpointSession<number>;
  link: number;
  connected: boolean;
  ended: boolean;
  /** Datagrams inspectPacket calls malformed that reached it while connected: it must count at least these. */
  undecodable: number;
}

class Harness {
  now = 0;
  readonly server: ServerEndpoint<number>;
  readonly client: ClientEndpoint<number>;
  readonly open = new Set<number>([HONEST]);
  readonly bytesIn = new Map<number, number>();
  readonly bytesOut = new Map<number, number>();
  /** Links that asked for a session (their later traffic is a session's, not a reply). */
  readonly requested = new Set<number>();
  readonly tracked = new Map<EndpointSession<number>, Tracked>();
  /** The session each open link carries (from its connect-request until the link closes). */
  readonly bound = new Map<number, Tracked>();
  readonly received: number[] = [];
  sent = 0;
  honestSession: EndpointSession<number> | undefined;
  honestEnded = false;
  failures: string[] = [];

  constructor(seed: number, honestReliable: boolean, maxSessions: number) {
    this.server = new ServerEndpoint<number>({
      connection: CONNECTION,
      maxSessions,
      handshakeTimeout: HANDSHAKE_TIMEOUT,
      linger: 50,
      random: new Random(seed),
    });
    this.client = new ClientEndpoint<number>({ connection: CONNECTION, random: new Random(seed ^ 0x5eed) });
    this.server.linkOpened(HONEST, honestReliable, 0);
    this.client.connect(HONEST, honestReliable, new Uint8Array(0), 0);
  }

  /** Every hostile link opens at the start (ops close and reopen them). */
  openAll(reliable: boolean[]): void {
    reliable.forEach((r, i) => this.apply({ op: 'open', link: i + 1, reliable: r }));
  }

  fail(what: string): void {
    if (this.failures.length < 5) this.failures.push(`t=${this.now}: ${what}`);
  }

  /** One host action, then what a host does next: poll the endpoint and hand out its events. */
  apply(op: Op): void {
    this.act(op);
    if (op.op !== 'wait') this.step();
  }

  private act(op: Op): void {
    switch (op.op) {
      case 'open':
        if (this.open.has(op.link)) return;
        this.open.add(op.link);
        this.server.linkOpened(op.link, op.reliable, this.now);
        return;
      case 'close':
        this.open.delete(op.link);
        this.bound.delete(op.link);
        this.server.linkClosed(op.link, this.now);
        return;
      case 'send': {
        const d = this.build(op.datagram);
        this.bytesIn.set(op.link, (this.bytesIn.get(op.link) ?? 0) + d.length);
        const bound = this.bound.get(op.link);
        if (bound && !bound.ended && bound.session.state === 'connected' && inspectPacket(d, WITH_IDS).kind === 'malformed')
          bound.undecodable++;
        this.server.handle(op.link, d, this.now);
        return;
      }
      case 'honest':
        for (let i = 0; i < op.count && this.client.state === 'connected'; i++) {
          const m = new Uint8Array(4);
          new DataView(m.buffer).setUint32(0, this.sent);
          try {
            this.client.send(0, m, this.now);
          } catch {
            break; // back-pressure: the window is full
          }
          this.sent++;
        }
        return;
      case 'wait':
        this.runFor(op.ms);
        return;
    }
  }

  /** A RESUME is built now: it names the honest session's real id (or another), with a token one bit off. */
  private build(h: Hostile): Uint8Array {
    if (h.kind === 'bytes') return h.bytes;
    const s = this.honestSession;
    const token = s ? s.token.slice() : new Uint8Array(16);
    token[h.flip >>> 3]! ^= 1 << (h.flip & 7);
    const id = h.honestId && s ? s.id : h.id;
    const valid = encodeControl({ type: 'resume', connectionId: id, token });
    return h.mutations.length === 0
      ? valid
      : mutate(
          [u8('prefix', valid[0]!), u32('connection id', id), bytes('token', token), bytes('padding', valid.subarray(21))],
          h.mutations,
        );
  }

  runFor(ms: number): void {
    const target = this.now + ms;
    for (let steps = 0; steps < 100_000; steps++) {
      const next = Math.min(this.server.nextTimeout(), this.client.nextTimeout(), target);
      this.now = Math.max(this.now, next);
      this.step();
      if (this.now >= target && Math.min(this.server.nextTimeout(), this.client.nextTimeout()) > target) return;
    }
    this.fail('more than 100 000 steps in one wait: something asks to be woken at now forever');
  }

  step(): void {
    for (let round = 0; round < 10; round++) {
      const out = this.server.poll(this.now);
      for (const t of out) {
        if (t.link === HONEST) this.client.handle(HONEST, t.datagram, this.now);
        else this.bytesOut.set(t.link, (this.bytesOut.get(t.link) ?? 0) + t.datagram.length);
      }
      for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) this.onServerEvent(e);
      const up = this.client.poll(this.now);
      for (const t of up) this.server.handle(HONEST, t.datagram, this.now);
      for (let e = this.client.pollEvent(); e; e = this.client.pollEvent()) {
        if (e.type === 'disconnected') {
          this.honestEnded = true;
          this.fail(`the honest client ended: ${e.reason} ${e.text}`);
        }
      }
      if (out.length === 0 && up.length === 0) break;
    }
    this.check();
  }

  private onServerEvent(e: ReturnType<ServerEndpoint<number>['pollEvent']> & object): void {
    switch (e.type) {
      case 'connect-request': {
        this.requested.add(e.link);
        if (this.tracked.has(e.session)) this.fail(`a second connect-request for session ${e.session.id}`);
        const t: Tracked = { session: e.session, link: e.link, connected: false, ended: false, undecodable: 0 };
        this.tracked.set(e.session, t);
        if (this.open.has(e.link)) this.bound.set(e.link, t);
        if (e.link === HONEST) this.honestSession = e.session;
        const verdict = e.link === HONEST ? 0 : e.payload.length % 3;
        if (verdict === 0) this.server.accept(e.session, this.now);
        else if (verdict === 1) this.server.reject(e.session, 32, 'no', this.now);
        return; // 2: left pending; the session's own deadline ends it
      }
      case 'connected': {
        const t = this.tracked.get(e.session);
        if (!t || t.ended || t.connected) this.fail(`'connected' for session ${e.session.id} out of turn`);
        if (t) t.connected = true;
        return;
      }
      case 'message':
        if (e.session === this.honestSession && e.channel === 0) {
          const n = new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength).getUint32(0);
          if (n !== this.received.length) this.fail(`honest message ${n} delivered, expected ${this.received.length}`);
          this.received.push(n);
        }
        return;
      case 'moved':
        if (e.session === this.honestSession) this.fail(`the honest session moved to link ${e.link}`);
        return;
      case 'disconnected':
      case 'refused': {
        const t = this.tracked.get(e.session);
        if (e.session === this.honestSession) this.fail(`the honest session ended: ${e.reason} ${e.text}`);
        if (t?.ended) this.fail(`a second end of session ${e.session.id}`);
        if (e.type === 'disconnected' && !t?.connected) this.fail(`'disconnected' for session ${e.session.id} never connected`);
        if (t) t.ended = true;
        else this.tracked.set(e.session, { session: e.session, link: -1, connected: false, ended: true, undecodable: 0 });
        return;
      }
      case 'close-link':
        if (e.link === HONEST) this.fail(`the server closed the honest link: ${e.reason}`);
        this.open.delete(e.link);
        this.bound.delete(e.link);
        return;
    }
  }

  private check(): void {
    const alive = [...this.tracked.values()].filter((t) => !t.ended).length;
    if (this.server.sessionCount !== alive) this.fail(`sessionCount ${this.server.sessionCount}, but ${alive} session(s) alive`);
    for (const [l, out] of this.bytesOut) {
      if (!this.requested.has(l) && out > (this.bytesIn.get(l) ?? 0))
        this.fail(`link ${l} got ${out} bytes back for ${this.bytesIn.get(l) ?? 0} sent`);
    }
  }
}

describe('the ServerEndpoint under hostile links', () => {
  it('never throws, never amplifies, counts what it cannot read, and keeps the honest session whole', { timeout: FUZZ_TIMEOUT }, () => {
    // What the runs reached, so a fuzzer that stopped reaching anything fails instead of passing empty.
    const reached = { hostileSessions: 0, resumesRefused: 0, refusedFull: 0, strayDatagrams: 0, malformedPackets: 0 };
    const params = fuzzParams<[Scenario]>(0.5);
    fc.assert(
      fc.property(scenarioArb, ({ seed, honestReliable, maxSessions, ops, reliable }) => {
        const h = new Harness(seed, honestReliable, maxSessions);
        h.runFor(200);
        h.openAll(reliable);
        expect(h.client.state).toBe('connected');
        for (const op of ops) h.apply(op);
        // Everything hostile times out: handshakes, pending and silent sessions, lingering links.
        h.runFor(HANDSHAKE_TIMEOUT + 2 * (CONNECTION.timeout ?? 0) + 1000);
        h.apply({ op: 'honest', count: 5 });
        h.runFor(500);
        expect(h.failures).toEqual([]);
        for (const t of h.tracked.values()) {
          const s = t.session.connection.stats();
          expect(s.internalErrors, `session ${t.session.id}`).toBe(0);
          expect(s.malformedPackets, `session ${t.session.id}: malformed packets counted`).toBeGreaterThanOrEqual(t.undecodable);
        }
        expect(h.client.connection.stats().internalErrors).toBe(0);
        expect(h.received).toEqual(Array.from({ length: h.sent }, (_, i) => i));
        expect(h.client.state).toBe('connected');
        expect(h.server.sessionCount).toBe(1);
        expect(h.server.unboundLinks).toBe(0);
        expect(h.server.session(h.honestSession!.id)).toBe(h.honestSession);
        reached.hostileSessions += [...h.tracked.values()].filter((t) => t.connected && t.link !== HONEST).length;
        reached.resumesRefused += h.server.counters.resumesRefused;
        reached.refusedFull += h.server.counters.refusedFull;
        reached.strayDatagrams += h.server.counters.strayDatagrams;
        reached.malformedPackets += [...h.tracked.values()].reduce((n, t) => n + t.session.connection.stats().malformedPackets, 0);
      }),
      params,
    );
    console.info('endpoint fuzz reached:', reached);
    if (params.path === undefined && (params.numRuns ?? 0) >= 50)
      for (const [what, n] of Object.entries(reached)) expect(n, what).toBeGreaterThan(0);
  });
});
