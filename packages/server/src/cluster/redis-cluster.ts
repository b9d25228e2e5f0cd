/**
 * The processes sharing matchmaking through Redis (docs/scaling.md).
 *
 * - Heartbeat: every `heartbeatMs` a process writes its ProcessInfo to `<prefix>process:<id>` with an expiry
 *   of `expiryMs`, adds its id to the set `<prefix>processes`, and reads everyone's. A process whose key
 *   expired is gone: its listings stop counting at once (RedisDriver asks `alive`), and one live process,
 *   under a lock, removes them from Redis and the id from the set (`gone`).
 * - A process that stops (close) deletes its key and says so on `<prefix>left`: the others drop it at once.
 * - Calls: a process listens on `<prefix>call:<id>`; a call is published there and answered on the caller's
 *   `<prefix>reply:<id>`, matched by a number. A call nobody listens to fails at once, one that is not
 *   answered in time fails when its time is up.
 */

import { decode, encode } from '@msgpack/msgpack';
import type { Cluster, ProcessInfo, RemoteCall, RemoteReply } from './cluster.js';
import type { RedisLink, RedisReport } from './redis-link.js';
import type { RedisPresence } from './redis-presence.js';

export interface RedisClusterOptions {
  /** How often a process says it is alive, ms. Default 1000. */
  heartbeatMs?: number;
  /** How long after its last heartbeat a process counts as gone, ms. Default 3000 (at least twice heartbeatMs). */
  expiryMs?: number;
}

interface CallMessage {
  id: number;
  from: string;
  call: RemoteCall;
}

interface ReplyMessage {
  id: number;
  reply: RemoteReply;
}

function isInfo(v: unknown): v is ProcessInfo {
  const p = v as ProcessInfo;
  return typeof p === 'object' && p !== null && typeof p.processId === 'string' && typeof p.url === 'string' && typeof p.rooms === 'number';
}

export class RedisCluster implements Cluster {
  readonly heartbeatMs: number;
  readonly expiryMs: number;
  private table = new Map<string, ProcessInfo>();
  /**
   * Each process's heartbeat in `table`: when it wrote it (its clock) and when this process first read it
   * (this one's clock, which placements are compared with: two hosts' clocks need not agree).
   */
  private beats = new Map<string, { at: number; seen: number }>();
  /** Rooms this process had created elsewhere lately (see placed()). */
  private placements: { processId: string; at: number; seats: number }[] = [];
  private self: (() => ProcessInfo) | undefined;
  private answer: ((call: RemoteCall) => Promise<RemoteReply>) | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private beating: Promise<void> | undefined;
  private nextCall = 1;
  private readonly pending = new Map<number, { resolve: (r: RemoteReply) => void; timer: ReturnType<typeof setTimeout> }>();
  private stopped = false;

  constructor(
    private readonly link: RedisLink,
    private readonly presence: RedisPresence,
    readonly processId: string,
    /** A process stopped heartbeating: remove its listings (run under a lock, by one process). */
    private readonly gone: (processId: string) => Promise<unknown>,
    private readonly report: RedisReport,
    options: RedisClusterOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.expiryMs = options.expiryMs ?? 3000;
    if (!(this.heartbeatMs >= 10) || !(this.expiryMs >= 2 * this.heartbeatMs))
      throw new RangeError(`expiryMs (${this.expiryMs}) must be at least twice heartbeatMs (${this.heartbeatMs}), which is ≥ 10`);
  }

  async start(self: () => ProcessInfo, answer: (call: RemoteCall) => Promise<RemoteReply>): Promise<void> {
    this.self = self;
    this.answer = answer;
    await this.link.subscribe(this.link.key('call', this.processId), (m) => this.called(m));
    await this.link.subscribe(this.link.key('reply', this.processId), (m) => this.replied(m));
    await this.link.subscribe(this.link.key('left'), (m) => {
      const id = m.toString();
      if (id !== this.processId) this.table.delete(id);
    });
    await this.beat();
    this.timer = setInterval(() => {
      this.beating ??= this.beat()
        .catch((e: unknown) => {
          if (this.link.up) this.report(e, 'a heartbeat to Redis');
        })
        .finally(() => (this.beating = undefined));
    }, this.heartbeatMs);
    this.timer.unref?.();
    this.link.onReady(() => void this.beat().catch(() => undefined));
  }

  processes(): readonly ProcessInfo[] {
    const out: ProcessInfo[] = [];
    for (const id of this.table.keys()) if (id !== this.processId) out.push(this.process(id)!);
    if (this.self) out.push(this.self()); // this one as it is now, not as of its last heartbeat
    return out;
  }

  process(processId: string): ProcessInfo | undefined {
    if (processId === this.processId && this.self) return this.self();
    const p = this.table.get(processId);
    if (!p) return undefined;
    // A heartbeat first read at `seen` was written since the read before, a heartbeat earlier: it surely
    // counts a placement only if that was before then. Placements older than the expiry count no more.
    const surely = (this.beats.get(processId)?.seen ?? 0) - this.heartbeatMs;
    const fresh = Date.now() - this.expiryMs;
    const since = this.placements.filter((x) => x.processId === processId && x.at > surely && x.at > fresh);
    if (since.length === 0) return p;
    return { ...p, rooms: p.rooms + since.length, clients: p.clients + since.reduce((n, x) => n + x.seats, 0) };
  }

  placed(processId: string, seats: number): void {
    const now = Date.now();
    this.placements = this.placements.filter((x) => now - x.at < this.expiryMs);
    this.placements.push({ processId, at: now, seats: Number.isFinite(seats) && seats > 0 ? seats : 1 });
  }

  async call(processId: string, call: RemoteCall, timeoutMs: number): Promise<RemoteReply> {
    const id = this.nextCall;
    this.nextCall = this.nextCall >= 0x7fffffff ? 1 : this.nextCall + 1;
    const reply = new Promise<RemoteReply>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, code: 'RoomUnavailable', message: `process ${processId} did not answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, { resolve, timer });
    });
    const message = Buffer.from(encode({ id, from: this.processId, call } satisfies CallMessage));
    let heard = 0;
    try {
      heard = await this.link.commands.publish(this.link.key('call', processId), message);
    } catch (e) {
      this.settle(id, { ok: false, code: 'RoomUnavailable', message: `matchmaking is unavailable (Redis: ${(e as Error).message})` });
    }
    if (heard === 0) this.settle(id, { ok: false, code: 'RoomUnavailable', message: `process ${processId} is not listening (gone?)` });
    return reply;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.beating?.catch(() => undefined);
    for (const id of [...this.pending.keys()])
      this.settle(id, { ok: false, code: 'RoomUnavailable', message: 'the server is shutting down' });
    await this.link.commands
      .multi()
      .del(this.link.key('process', this.processId))
      .srem(this.link.key('processes'), this.processId)
      .publish(this.link.key('left'), this.processId)
      .exec()
      .catch(() => undefined); // it expires anyway
  }

  /** Says this process is alive, reads everyone's, and sweeps the ones that are gone. */
  private async beat(): Promise<void> {
    if (this.stopped || !this.self) return;
    const me = this.self();
    const set = this.link.key('processes');
    await this.link.commands
      .multi()
      .set(this.link.key('process', this.processId), Buffer.from(encode({ ...me, at: Date.now() })), 'PX', this.expiryMs)
      .sadd(set, this.processId)
      .exec();
    const ids = await this.link.commands.smembers(set);
    const values = ids.length > 0 ? await this.link.commands.mgetBuffer(...ids.map((id) => this.link.key('process', id))) : [];
    const table = new Map<string, ProcessInfo>();
    const beats = new Map<string, { at: number; seen: number }>();
    const now = Date.now();
    const dead: string[] = [];
    ids.forEach((id, i) => {
      const v = values[i];
      if (!v) return void dead.push(id);
      try {
        const info = decode(v) as ProcessInfo & { at?: unknown };
        if (isInfo(info) && info.processId === id) {
          const at = typeof info.at === 'number' ? info.at : 0;
          const before = this.beats.get(id);
          beats.set(id, { at, seen: before && before.at === at ? before.seen : now });
          delete info.at;
          table.set(id, info);
        }
      } catch {
        // an unreadable record counts as no heartbeat
      }
    });
    table.set(this.processId, me);
    this.table = table;
    this.beats = beats;
    for (const id of dead) {
      if (id === this.processId) continue;
      await this.presence
        .withLock(`sweep:${id}`, 2000, async () => {
          // Still gone (another process may have swept it, or it came back)?
          if (await this.link.commands.exists(this.link.key('process', id))) return;
          await this.gone(id);
          await this.link.commands.srem(set, id);
        })
        .catch((e: unknown) => this.report(e, `removing the listings of process ${id}, which is gone`));
    }
  }

  private called(message: Buffer): void {
    let m: CallMessage;
    try {
      m = decode(message) as CallMessage;
    } catch {
      return;
    }
    if (typeof m !== 'object' || m === null || typeof m.id !== 'number' || typeof m.from !== 'string' || !this.answer) return;
    void this.answer(m.call)
      .catch((e: unknown) => ({ ok: false, code: 'Failed', message: (e as Error)?.message ?? String(e) }) satisfies RemoteReply)
      .then((reply) =>
        this.link.commands.publish(this.link.key('reply', m.from), Buffer.from(encode({ id: m.id, reply } satisfies ReplyMessage))),
      )
      .catch((e: unknown) => this.report(e, `answering a call from process ${m.from}`));
  }

  private replied(message: Buffer): void {
    let m: ReplyMessage;
    try {
      m = decode(message) as ReplyMessage;
    } catch {
      return;
    }
    if (typeof m === 'object' && m !== null && typeof m.id === 'number' && typeof m.reply === 'object' && m.reply !== null)
      this.settle(m.id, m.reply);
  }

  private settle(id: number, reply: RemoteReply): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(reply);
  }
}
