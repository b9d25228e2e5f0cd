/**
 * Rooms in-process and N simulated clients over seeded lossy links, in simulated time (docs/rooms.md,
 * "Testing"): the same Room classes, matchmaker and room hub the server runs, and the same client rooms the
 * SDK runs, over the real protocol; only the wire and the clock are simulated, so a run is deterministic.
 *
 *   const bed = new RoomTestbed({ seed: 7, link: { loss: 0.1, latency: 40, jitter: 10 } });
 *   bed.define('battle', Battle);
 *   const a = await bed.connect();
 *   const room = await a.joinOrCreate('battle', {}, BattleState);   // advances simulated time until joined
 *   room.send('move', { x: 1, y: 2 });
 *   await bed.settle();                                              // until every link is quiet
 *   expect(bed.room<Battle>(room.roomId).state.players.get(room.sessionId)?.x).toBe(1);
 *
 * Only the testbed moves time: `advance(ms)`, `settle()`, and every method that waits for an answer (a join)
 * advance it until that answer is there. Errors of rooms (a hook that threw) are collected in `errors`.
 */

import { isRoomFrame, STANDARD_CHANNELS, type ChannelOptions, type ConnectionOptions, type LinkConditions } from '@volley/protocol';
import {
  Matchmaker,
  RoomHub,
  ROOM_HUB_DEFAULTS,
  type Room,
  type RoomClass,
  type RoomDefinition,
  type RoomHubLimits,
  type RoomPeer,
} from '@volley/server';
import { SimScheduler } from './sim-scheduler.js';
import { SimSession } from './sim-session.js';
import { TestClient } from './test-client.js';

export interface RoomTestbedOptions {
  /** Seed of every link and of the server's ids. Default 1. */
  seed?: number;
  /** Conditions of every client's link (each client may have its own: `connect({ link })`). Default: perfect. */
  link?: LinkConditions;
  /** Protocol options of every session (timeout, pingInterval, …). */
  protocol?: Omit<ConnectionOptions, 'channels' | 'nonce'>;
  /** The channel layout. Default the standard one. */
  channels?: ChannelOptions[];
  /** Per-session caps of the room hub. */
  limits?: Partial<RoomHubLimits>;
  /** Simulated start time, ms. Default 0. */
  start?: number;
}

/** A room error the testbed collected (a hook or handler threw, a listing update failed). */
export interface TestbedError {
  what: string;
  error: unknown;
  time: number;
}

const MAX_STEPS_PER_ADVANCE = 5_000_000;

export class RoomTestbed {
  readonly scheduler: SimScheduler;
  readonly matchmaker: Matchmaker;
  readonly hub: RoomHub;
  readonly errors: TestbedError[] = [];
  readonly clients: TestClient[] = [];
  private readonly sessions: SimSession[] = [];
  private readonly peers = new Map<number, RoomPeer>();
  private readonly seed: number;
  private readonly link: LinkConditions;
  private readonly connectionOptions: ConnectionOptions;
  private readonly layout: ChannelOptions[];
  private nextId = 1;

  constructor(options: RoomTestbedOptions = {}) {
    this.seed = options.seed ?? 1;
    this.link = options.link ?? {};
    this.layout = options.channels ?? [...STANDARD_CHANNELS];
    this.connectionOptions = { ...options.protocol, channels: this.layout };
    this.scheduler = new SimScheduler(options.start ?? 0, this.seed ^ 0x5eed);
    this.matchmaker = new Matchmaker(
      {
        env: this.scheduler,
        layout: this.layout,
        maxMessageDepth: 64,
        report: (error, _client, what) => this.errors.push({ what, error, time: this.now }),
        forget: (peer, room) => this.hub.forget(peer, room),
        clients: () => this.sessions.length,
      },
      { processId: 'testbed' },
    );
    this.hub = new RoomHub(
      this.matchmaker,
      { ...ROOM_HUB_DEFAULTS, ...options.limits },
      64,
      (_peer, why) => this.errors.push({ what: 'a malformed room frame', error: new Error(why), time: this.now }),
      (peer) => ({ user: peer.user, session: peer.id, transport: peer.transport, remote: peer.remote }),
    );
  }

  /** Simulated time now, ms. */
  get now(): number {
    return this.scheduler.now();
  }

  /** Registers a room type (as `server.define`). */
  define(name: string, roomClass: RoomClass, defaultOptions?: Record<string, unknown>): RoomDefinition {
    return this.matchmaker.define(name, roomClass, defaultOptions);
  }

  /** The server's instance of room `roomId` (to read its state or call its methods). */
  room<R extends object = Room>(roomId: string): R {
    const r = this.matchmaker.room(roomId);
    if (!r) throw new Error(`no room ${roomId} (disposed, or never made)`);
    return r.room as unknown as R;
  }

  /**
   * A new simulated client, connected (its handshake runs in simulated time). `link` overrides the
   * testbed's conditions for this client; `user` is what the server's onAuth would have returned.
   */
  async connect(options: { link?: LinkConditions; user?: unknown } = {}): Promise<TestClient> {
    const id = this.nextId++;
    const ref: { client?: TestClient } = {};
    const session = new SimSession(
      id,
      (this.seed * 1_000_003 + id) >>> 0,
      { ...this.link, ...options.link },
      this.connectionOptions,
      (e) => {
        const now = this.now;
        if (e.type === 'connect-request') {
          const token = this.scheduler.randomBytes(16);
          session.server.accept(now, id, token);
        } else if (e.type === 'message') {
          if (isRoomFrame(e.data)) this.hub.receive(this.peer(session, options.user), e.data);
        } else if (e.type === 'disconnected') {
          const peer = this.peers.get(id);
          this.peers.delete(id);
          if (peer) this.hub.peerEnded(peer);
        }
      },
      (e) => ref.client?.event(e),
    );
    const client = (ref.client = new TestClient(this, session, this.layout));
    this.sessions.push(session);
    this.clients.push(client);
    session.client.connect(this.now, new Uint8Array(0));
    await this.until(() => session.client.state === 'connected' && session.server.state === 'connected', 30_000, `client ${id} to connect`);
    this.peer(session, options.user); // the session exists for the rooms from now
    return client;
  }

  /** Advances simulated time by `ms`, running everything due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.now + Math.max(0, ms);
    await this.runTo(target, undefined);
  }

  /**
   * Advances until every link is quiet (no reliable message unacknowledged or queued) and stays so
   * for `calm` ms (default 200: a few patch intervals, so a last patch is encoded and delivered), at most
   * `maxMs` of simulated time; throws if it never is.
   */
  async settle(maxMs = 120_000, calm = 200): Promise<void> {
    const deadline = this.now + maxMs;
    let quietSince: number | undefined;
    await this.runTo(deadline, () => {
      const quiet = this.sessions.every((s) => s.quiet);
      if (!quiet) quietSince = undefined;
      else quietSince ??= this.now;
      return quietSince !== undefined && this.now - quietSince >= calm;
    });
    if (quietSince === undefined || this.now - quietSince < calm)
      throw new Error(`the links did not go quiet within ${maxMs} ms of simulated time`);
  }

  /** Advances until `done()` holds (or a promise settles), at most `maxMs`; throws with `what` if it never does. */
  async until(done: (() => boolean) | Promise<unknown>, maxMs = 30_000, what = 'a condition'): Promise<void> {
    let settled = false;
    const check = typeof done === 'function' ? done : () => settled;
    if (typeof done !== 'function')
      done.then(
        () => (settled = true),
        () => (settled = true),
      );
    const deadline = this.now + maxMs;
    await this.runTo(deadline, check);
    if (!check()) throw new Error(`timed out after ${maxMs} ms of simulated time waiting for ${what}`);
  }

  /** Closes every client and disposes every room. */
  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    await this.advance(100);
    await this.matchmaker.shutdown(2, 'testbed closed');
    await this.advance(10);
  }

  // ---- the loop -------------------------------------------------------------------------------

  private peer(session: SimSession, user: unknown): RoomPeer {
    let peer = this.peers.get(session.id);
    if (!peer) {
      peer = {
        id: session.id,
        user,
        transport: 'simulated',
        remote: `sim:${session.id}`,
        send: (channel, bytes) => session.server.trySend(channel, bytes, this.now),
        rtt: () => session.server.stats().rtt.smoothed,
      };
      this.peers.set(session.id, peer);
    }
    return peer;
  }

  /** Steps from event to event up to `target` (or until `done`), letting promises settle between steps. */
  private async runTo(target: number, done: (() => boolean) | undefined): Promise<void> {
    await settleMicrotasks();
    for (let steps = 0; steps < MAX_STEPS_PER_ADVANCE; steps++) {
      if (done?.()) return;
      const next = Math.min(this.scheduler.nextTime(), ...this.sessions.map((s) => s.nextTime()));
      const now = Math.max(this.now, Math.min(next, target));
      this.scheduler.moveTo(now);
      this.scheduler.runDue();
      for (const s of this.sessions) s.step(now);
      await settleMicrotasks();
      if (now >= target && !(this.scheduler.nextTime() <= now) && !this.sessions.some((s) => s.nextTime() <= now)) return;
    }
    throw new Error(
      `the simulation made ${MAX_STEPS_PER_ADVANCE} steps without reaching t=${target}: something asks to be woken at the same time forever`,
    );
  }
}

/** Lets every promise continuation that is ready run (async hooks, the matchmaker's driver). */
function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
