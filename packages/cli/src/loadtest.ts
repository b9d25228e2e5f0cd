/**
 * `volley loadtest`: N bots, each a real @volley/client session, spread over worker processes
 * (worker-pool.ts, loadtest-worker.ts), connect to the given server processes in turn (as a load balancer
 * would), join a room type wherever the cluster puts them (docs/scaling.md) and run a script (bot-script.ts:
 * idle, move, shoot, or a module). It reports per server process what the bots saw (join time p50/p99,
 * failures by reason, state updates) and, given the servers' load token, what each process paid over the
 * measured span — CPU and bytes per player per second, and its simulations' last step times — from two
 * readings of GET /volley/load, one at the start of the span and one at its end (loadtest-report.ts prints it).
 */

import { availableParallelism } from 'node:os';
import type { ServerLoad } from '@volley/server';
import { loadScript } from './bot-script.js';
import type { BotFigures, FromWorker, WorkerConfig } from './loadtest-ipc.js';
import { progressBar } from './progress-bar.js';
import { WorkerPool, type PoolWorker } from './worker-pool.js';

export interface LoadtestOptions {
  /** The server processes (their HTTP URLs). Bots connect to them in turn; joins may take them to others. */
  urls: string[];
  bots: number;
  /** Room type to joinOrCreate, and the options to join with. */
  room: string;
  joinOptions?: Record<string, unknown>;
  /** Measured span once every bot has joined (s). */
  seconds: number;
  transport: 'udp' | 'websocket' | 'polling';
  /** What each bot does once joined: idle, move, shoot (default idle), or a module's path (bot-script.ts). */
  script?: string;
  /** The servers' loadToken, for their side of the figures (the same on every process). */
  token?: string;
  /** Worker processes the bots are spread over (default: one per 200 bots, at most the cores less one). */
  workers?: number;
  /** Joins under way at once per worker (default 20). */
  batch?: number;
}

export interface Quantiles {
  p50: number;
  p99: number;
  max: number;
}

/**
 * What one server process paid over the measured span (from GET /volley/load), per player: per seat taken
 * in its rooms (a client that came in through another process and was redirected here has a session in
 * each; the idle first one costs its keepalives, which are counted where it is).
 */
export interface ProcessLoad {
  /** Seats taken in its rooms at the end of the span. */
  players: number;
  /** Sessions at the end of the span. */
  sessions: number;
  rooms: number;
  cpuCores: number;
  /** Per player figures are NaN (null in JSON) for a process with no player. */
  cpuMicrosPerPlayerSecond: number;
  bytesOutPerSecond: number;
  bytesInPerSecond: number;
  bytesOutPerPlayerSecond: number;
  bytesInPerPlayerSecond: number;
  packetsOutPerPlayerSecond: number;
  packetsInPerPlayerSecond: number;
  tickMs: { p50: number | null; p99: number | null; max: number | null; samples: number };
  ticksLate: number;
  ticksDropped: number;
}

export interface ProcessReport {
  /** The process's origin (what rooms report as their serverUrl). */
  url: string;
  processId?: string;
  /** Bots whose room runs here, at the end of the span. */
  bots: number;
  /** Joins that ended in a room here: from the first connection to the joined room (a redirect included). */
  joinMs: Quantiles;
  /** Joins that failed after connecting here first, and bots whose room here ended, by reason. */
  failures: Record<string, number>;
  /** State changes per bot per second, as the bots here counted them. */
  stateChangesPerBotSecond: number;
  server?: ProcessLoad;
  /** Why there are no server figures for it (no token, or GET /volley/load failed). */
  serverError?: string;
}

export interface LoadtestReport {
  urls: string[];
  room: string;
  transport: string;
  script: string;
  bots: number;
  workers: number;
  joined: number;
  /** Every failure, by reason (joins, and rooms lost during the run). */
  failures: Record<string, number>;
  /** Bots that joined and then lost their room (or their worker) before the end. */
  lost: number;
  joinMs: Quantiles;
  seconds: number;
  /** The bots' own CPU over the span, in cores, all workers together (on the same machine, it is the servers' too). */
  botCpuCores: number;
  processes: ProcessReport[];
}

const JOIN_TIMEOUT_MS = 15_000;
const PROGRESS_EVERY_MS = 1000;
/** setTimeout's largest delay. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function quantiles(values: readonly number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

async function readLoad(url: string, token: string): Promise<ServerLoad> {
  let res: Response;
  try {
    res = await fetch(new URL('/volley/load', url), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: unknown; message?: unknown } })?.cause;
    const why = typeof cause?.code === 'string' ? cause.code : String(cause?.message ?? (e as Error)?.message ?? e);
    throw new Error(`GET ${url}/volley/load: ${why}`, { cause: e });
  }
  if (res.status === 401) throw new Error(`${url} refused the load token (401)`);
  if (res.status === 404) throw new Error(`${url} has no /volley/load: start it with a loadToken`);
  if (!res.ok) throw new Error(`GET ${url}/volley/load: HTTP ${res.status}`);
  return (await res.json()) as ServerLoad;
}

function processLoad(a: ServerLoad, b: ServerLoad): ProcessLoad {
  const span = (b.at - a.at) / 1000;
  const players = b.roomClients;
  const per = (v: number) => (players > 0 ? v / players : NaN);
  const cpu = (b.cpuMicros.user + b.cpuMicros.system - a.cpuMicros.user - a.cpuMicros.system) / 1e6 / span;
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  const bytesOut = (b.bytesOut - a.bytesOut) / span;
  const bytesIn = (b.bytesIn - a.bytesIn) / span;
  return {
    players,
    sessions: b.sessions,
    rooms: b.rooms,
    cpuCores: cpu,
    cpuMicrosPerPlayerSecond: per(cpu * 1e6),
    bytesOutPerSecond: bytesOut,
    bytesInPerSecond: bytesIn,
    bytesOutPerPlayerSecond: per(bytesOut),
    bytesInPerPlayerSecond: per(bytesIn),
    packetsOutPerPlayerSecond: per((b.packetsOut - a.packetsOut) / span),
    packetsInPerPlayerSecond: per((b.packetsIn - a.packetsIn) / span),
    tickMs: { p50: finite(b.ticks.p50), p99: finite(b.ticks.p99), max: finite(b.ticks.max), samples: b.ticks.samples },
    ticksLate: b.ticks.lateRuns - a.ticks.lateRuns,
    ticksDropped: b.ticks.dropped - a.ticks.dropped,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isTypeScript = (f: string) => /\.[cm]?tsx?$/.test(f);

/** Runs the load test; `progress` hears a line about once a second (a bar while joining, then measuring). */
export async function runLoadtest(o: LoadtestOptions, progress: (line: string) => void = () => {}): Promise<LoadtestReport> {
  if (!Number.isInteger(o.bots) || o.bots < 1 || o.bots > 100_000) throw new RangeError(`bots must be 1..100000, got ${o.bots}`);
  if (!(o.seconds > 0) || o.seconds > 3600) throw new RangeError(`seconds must be in (0, 3600], got ${o.seconds}`);
  if (o.urls.length === 0) throw new RangeError('at least one server URL is needed');
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 1 && o.workers <= 256))
    throw new RangeError(`workers must be 1..256, got ${o.workers}`);
  if (o.batch !== undefined && !(Number.isInteger(o.batch) && o.batch >= 1 && o.batch <= 1000))
    throw new RangeError(`batch must be 1..1000, got ${o.batch}`);
  const origins = o.urls.map((u) => {
    if (!/^https?:\/\//.test(u) || !URL.canParse(u)) throw new RangeError(`'${u}' is not an http(s) URL`);
    return new URL(u).origin;
  });
  const cores = Math.max(1, availableParallelism() - 1);
  const workerCount = Math.min(o.workers ?? Math.min(cores, Math.ceil(o.bots / 200)), o.bots);
  const batch = o.batch ?? 20;
  const script = o.script ?? 'idle';
  if (!isTypeScript(script)) await loadScript(script); // a script that is no module fails now (a .ts one loads in the workers)
  // A wrong token or URL fails now, before any bot.
  if (o.token) for (const u of origins) await readLoad(u, o.token);

  const joins = new Map<string, number[]>();
  const failures = new Map<string, Record<string, number>>();
  let joined = 0;
  let failed = 0;
  let lost = 0;
  let fatal: string | undefined;
  /** Bots given up on (their worker died, or the join phase ran out): what their worker says later is ignored. */
  const settled = new Set<number>();
  const count = (where: string, reason: string) => {
    const f = failures.get(where) ?? {};
    f[reason] = (f[reason] ?? 0) + 1;
    failures.set(where, f);
  };
  const hear = (_w: PoolWorker, m: FromWorker) => {
    if ((m.t === 'joined' || m.t === 'failed' || m.t === 'lost') && settled.has(m.index)) return;
    if (m.t === 'joined') {
      joined++;
      let list = joins.get(m.process);
      if (!list) joins.set(m.process, (list = []));
      list.push(m.ms);
    } else if (m.t === 'failed') {
      failed++;
      count(new URL(m.via).origin, m.reason);
    } else if (m.t === 'lost') {
      lostBots.add(m.index);
      lost++;
      count(m.process, m.reason);
    } else if (m.t === 'error') fatal ??= m.message;
  };
  /** Bots that lost their room, as their worker said. */
  const lostBots = new Set<number>();
  /**
   * A worker gone before it was told to stop (or, with `keepJoined`, still joining when the join phase
   * ran out): its bots not yet heard of failed, and its joined ones (unless kept) are lost.
   */
  const settle = (w: PoolWorker, reason: string, keepJoined = false) => {
    const { first, count: n } = w.config;
    for (let i = first; i < first + n; i++) {
      if (settled.has(i)) continue;
      const room = w.joinedBots.get(i);
      if (room !== undefined) {
        if (keepJoined) continue;
        if (!lostBots.has(i)) {
          lost++;
          count(room, reason);
        }
      } else if (!w.reported.has(i)) {
        failed++;
        count(origins[i % origins.length]!, reason);
      }
      settled.add(i);
    }
  };
  const settleDead = () => {
    for (const w of pool.workers) if (!w.alive && !w.stopped) settle(w, `worker exited (code ${w.exitCode})`);
  };

  const per = Math.ceil(o.bots / workerCount);
  const lifetimeMs = Math.min(MAX_TIMER_MS, JOIN_TIMEOUT_MS * 2 * Math.ceil(per / batch) + o.seconds * 1000 + 120_000);
  const configs: WorkerConfig[] = [];
  for (let first = 0; first < o.bots; first += per) {
    configs.push({
      urls: o.urls,
      first,
      count: Math.min(per, o.bots - first),
      room: o.room,
      joinOptions: o.joinOptions ?? {},
      transport: o.transport,
      script,
      batch,
      joinTimeoutMs: JOIN_TIMEOUT_MS,
      lifetimeMs,
    });
  }
  const pool = new WorkerPool(configs, hear);
  const bar = (what: string) =>
    progress(`${what} ${progressBar(joined + failed, o.bots)} ${joined}/${o.bots}${failed ? `, ${failed} failed` : ''}`);
  try {
    // Joining, until every worker has tried all its bots (or is gone).
    const joinDeadline = performance.now() + lifetimeMs - o.seconds * 1000 - 60_000;
    for (let i = 0; !fatal && pool.workers.some((w) => w.alive && !w.ready); i++) {
      if (performance.now() > joinDeadline) {
        for (const w of pool.workers) if (w.alive && !w.ready) settle(w, 'join phase timed out', true);
        break;
      }
      if (i % 10 === 0) bar('joining  ');
      await sleep(PROGRESS_EVERY_MS / 10);
    }
    if (fatal) throw new Error(fatal);
    settleDead();
    bar('joined   ');
    if (joined === 0 && pool.workers.every((w) => !w.ready)) {
      const said = pool.workers.flatMap((w) => w.stderr.trim().split('\n'));
      const last = said.find((l) => /Error/.test(l)) ?? said.filter((l) => l.trim()).at(-1);
      const tsx =
        isTypeScript(script) && /tsx/.test(last ?? '') ? ' (a .ts script needs tsx installed where volley runs: npm install tsx)' : '';
      throw new Error(`every worker exited before its bots had joined${tsx}${last ? `: ${last}` : ''}`);
    }

    // Every process a bot's room is in, and every process given.
    const processes = [...new Set([...origins, ...joins.keys()])];
    const loads = async (): Promise<Map<string, ServerLoad | string>> => {
      const out = new Map<string, ServerLoad | string>();
      if (!o.token || joined === 0) return out;
      await Promise.all(processes.map(async (u) => out.set(u, await readLoad(u, o.token!).catch((e: unknown) => (e as Error).message))));
      return out;
    };
    let seconds = 0;
    let load0 = new Map<string, ServerLoad | string>();
    let load1 = load0;
    let mark0: Awaited<ReturnType<WorkerPool['mark']>> = [];
    let mark1 = mark0;
    if (joined > 0) {
      load0 = await loads();
      mark0 = await pool.mark();
      const t0 = performance.now();
      const end = t0 + o.seconds * 1000;
      while (performance.now() < end && !fatal) {
        await sleep(Math.min(PROGRESS_EVERY_MS, end - performance.now()));
        const s = (performance.now() - t0) / 1000;
        progress(`measuring ${progressBar(s, o.seconds)} ${s.toFixed(0)}/${o.seconds} s with ${joined - lost} bots`);
      }
      if (fatal) throw new Error(fatal);
      load1 = await loads();
      mark1 = await pool.mark();
      seconds = (performance.now() - t0) / 1000;
    }
    settleDead();

    // The bots' figures, from the workers that answered both times.
    const sums0 = new Map<string, BotFigures>();
    const sums1 = new Map<string, BotFigures>();
    let cpuMicros = 0;
    pool.workers.forEach((_, i) => {
      const [a, b] = [mark0[i], mark1[i]];
      if (!a || !b) return;
      cpuMicros += b.cpuMicros - a.cpuMicros;
      for (const [m, sums] of [
        [a, sums0],
        [b, sums1],
      ] as const) {
        for (const [url, f] of Object.entries(m.perProcess)) {
          const s = sums.get(url) ?? { bots: 0, stateChanges: 0 };
          s.bots += f.bots;
          s.stateChanges += f.stateChanges;
          sums.set(url, s);
        }
      }
    });
    const reports: ProcessReport[] = processes.map((url) => {
      const b1 = sums1.get(url);
      const changes = (b1?.stateChanges ?? 0) - (sums0.get(url)?.stateChanges ?? 0);
      const r: ProcessReport = {
        url,
        bots: b1?.bots ?? 0,
        joinMs: quantiles(joins.get(url) ?? []),
        failures: failures.get(url) ?? {},
        stateChangesPerBotSecond: b1?.bots && seconds > 0 ? changes / b1.bots / seconds : 0,
      };
      const a = load0.get(url);
      const b = load1.get(url);
      if (typeof a === 'object' && typeof b === 'object') {
        r.processId = b.processId;
        r.server = processLoad(a, b);
      } else if (!o.token) r.serverError = 'no token';
      else if (joined === 0) r.serverError = 'no bot joined';
      else r.serverError = typeof b === 'string' ? b : typeof a === 'string' ? a : 'not read';
      return r;
    });
    const all: Record<string, number> = {};
    for (const f of failures.values()) for (const [k, n] of Object.entries(f)) all[k] = (all[k] ?? 0) + n;
    return {
      urls: o.urls,
      room: o.room,
      transport: o.transport,
      script,
      bots: o.bots,
      workers: pool.workers.length,
      joined,
      failures: all,
      lost,
      joinMs: quantiles([...joins.values()].flat()),
      seconds,
      botCpuCores: seconds > 0 ? cpuMicros / 1e6 / seconds : 0,
      processes: reports,
    };
  } finally {
    await pool.stop();
  }
}
