/**
 * `volley loadtest`: N bots, each a real @volley/client session, spread over worker processes
 * (loadtest-worker.ts), connect to the given server processes in turn (as a load balancer would), join a room
 * type wherever the cluster puts them (docs/scaling.md) and run a script (bot-script.ts: idle, move, shoot,
 * or a module). It reports per server process what the bots saw (join time p50/p99, failures by reason,
 * state updates) and, given the servers' load token, what each process paid over the measured span — CPU
 * per client, its simulations' step time p50/p99, bytes per client per second — from two readings of
 * GET /volley/load, one at the start of the span and one at its end.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ServerLoad } from '@volley/server';
import type { BotFigures, FromWorker, ToWorker, WorkerConfig } from './loadtest-worker.js';
import { loadScript } from './bot-script.js';
import { progressBar } from './progress-bar.js';

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
  cpuMicrosPerPlayerSecond: number;
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
  joinMs: Quantiles;
  seconds: number;
  /** The bots' own CPU over the span, in cores, all workers together (on the same machine, it is the servers' too). */
  botCpuCores: number;
  processes: ProcessReport[];
}

const JOIN_TIMEOUT_MS = 15_000;
const PROGRESS_EVERY_MS = 1000;

function quantiles(values: readonly number[]): Quantiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN };
}

async function readLoad(url: string, token: string): Promise<ServerLoad> {
  const res = await fetch(new URL('/volley/load', url), {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (res.status === 401) throw new Error(`${url} refused the load token (401)`);
  if (res.status === 404) throw new Error(`${url} has no /volley/load: start it with a loadToken`);
  if (!res.ok) throw new Error(`GET ${url}/volley/load: HTTP ${res.status}`);
  return (await res.json()) as ServerLoad;
}

function processLoad(a: ServerLoad, b: ServerLoad): ProcessLoad {
  const span = (b.at - a.at) / 1000;
  const players = Math.max(1, b.roomClients);
  const cpu = (b.cpuMicros.user + b.cpuMicros.system - a.cpuMicros.user - a.cpuMicros.system) / 1e6 / span;
  const finite = (v: number) => (Number.isFinite(v) ? v : null);
  return {
    players: b.roomClients,
    sessions: b.sessions,
    rooms: b.rooms,
    cpuCores: cpu,
    cpuMicrosPerPlayerSecond: (cpu * 1e6) / players,
    bytesOutPerPlayerSecond: (b.bytesOut - a.bytesOut) / players / span,
    bytesInPerPlayerSecond: (b.bytesIn - a.bytesIn) / players / span,
    packetsOutPerPlayerSecond: (b.packetsOut - a.packetsOut) / players / span,
    packetsInPerPlayerSecond: (b.packetsIn - a.packetsIn) / players / span,
    tickMs: { p50: finite(b.ticks.p50), p99: finite(b.ticks.p99), max: finite(b.ticks.max), samples: b.ticks.samples },
    ticksLate: b.ticks.lateRuns - a.ticks.lateRuns,
    ticksDropped: b.ticks.dropped - a.ticks.dropped,
  };
}

/** The worker script beside this module: compiled (dist/*.js), or the source under a TypeScript loader. */
function workerPath(): string {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/loadtest\.(js|ts)$/, 'loadtest-worker.$1');
}

/** One worker process and what it has said. */
class Worker {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  ready = false;
  private waiting: ((m: FromWorker) => boolean)[] = [];

  constructor(
    config: WorkerConfig,
    private readonly hear: (m: FromWorker) => void,
  ) {
    // TypeScript (a script, or this module run from its source) needs a loader in the worker: this
    // process's flags, and tsx when they have none.
    const path = workerPath();
    const typescript = [config.script, path].some((f) => /\.[cm]?tsx?$/.test(f)) && !process.execArgv.some((a) => /tsx/.test(a));
    this.proc = fork(path, [], {
      execArgv: [...process.execArgv, ...(typescript ? ['--import', 'tsx'] : [])],
      env: { ...process.env, VOLLEY_LOADTEST_WORKER: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.on('message', (m: FromWorker) => {
      if (m.t === 'ready') this.ready = true;
      this.hear(m);
      this.waiting = this.waiting.filter((w) => !w(m));
    });
    this.tell({ t: 'start', config });
  }

  tell(m: ToWorker): void {
    if (this.proc.connected) this.proc.send(m);
  }

  /** Sends `m` and waits (at most `ms`) for the first answer `pick` accepts; undefined if none came. */
  async ask<T>(m: ToWorker, pick: (a: FromWorker) => T | undefined, ms: number): Promise<T | undefined> {
    if (!this.proc.connected) return undefined;
    return new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      this.waiting.push((a) => {
        const v = pick(a);
        if (v === undefined) return false;
        clearTimeout(timer);
        resolve(v);
        return true;
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
      this.tell(m);
    });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the load test; `progress` hears a line about once a second (a bar while joining, then measuring). */
export async function runLoadtest(o: LoadtestOptions, progress: (line: string) => void = () => {}): Promise<LoadtestReport> {
  if (!Number.isInteger(o.bots) || o.bots < 1 || o.bots > 100_000) throw new RangeError(`bots must be 1..100000, got ${o.bots}`);
  if (!(o.seconds > 0) || o.seconds > 3600) throw new RangeError(`seconds must be in (0, 3600], got ${o.seconds}`);
  if (o.urls.length === 0) throw new RangeError('at least one server URL is needed');
  const origins = o.urls.map((u) => new URL(u).origin);
  const cores = Math.max(1, availableParallelism() - 1);
  const workerCount = Math.max(1, Math.min(o.workers ?? Math.min(cores, Math.ceil(o.bots / 200)), o.bots));
  if (!Number.isInteger(workerCount) || workerCount > 256) throw new RangeError(`workers must be 1..256, got ${o.workers}`);
  const batch = o.batch ?? 20;
  const script = o.script ?? 'idle';
  if (!/\.[cm]?tsx?$/.test(script)) await loadScript(script); // a script that is no module fails now (a .ts one loads in the workers)
  // A wrong token or URL fails now, before any bot.
  if (o.token) for (const u of origins) await readLoad(u, o.token);

  const joins = new Map<string, number[]>();
  const failures = new Map<string, Record<string, number>>();
  let joined = 0;
  let failed = 0;
  let fatal: string | undefined;
  const count = (where: string, reason: string) => {
    const f = failures.get(where) ?? {};
    f[reason] = (f[reason] ?? 0) + 1;
    failures.set(where, f);
  };
  const hear = (m: FromWorker) => {
    if (m.t === 'joined') {
      joined++;
      joins.set(m.process, [...(joins.get(m.process) ?? []), m.ms]);
    } else if (m.t === 'failed') {
      failed++;
      count(new URL(m.via).origin, m.reason);
    } else if (m.t === 'lost') count(m.process, m.reason);
    else if (m.t === 'error') fatal ??= m.message;
  };

  const per = Math.ceil(o.bots / workerCount);
  const lifetimeMs = JOIN_TIMEOUT_MS * 2 * Math.ceil(per / batch) + o.seconds * 1000 + 120_000;
  const workers: Worker[] = [];
  try {
    for (let first = 0; first < o.bots; first += per) {
      const config: WorkerConfig = {
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
      };
      workers.push(new Worker(config, hear));
    }
    // Joining, until every worker has tried all its bots (or gone).
    const joinDeadline = performance.now() + lifetimeMs;
    for (let i = 0; performance.now() < joinDeadline; i++) {
      const alive = workers.filter((w) => w.proc.exitCode === null && w.proc.signalCode === null);
      if (workers.every((w) => w.ready || !alive.includes(w)) || fatal) break;
      if (i % 10 === 0)
        progress(`joining   ${progressBar(joined + failed, o.bots)} ${joined}/${o.bots}${failed ? `, ${failed} failed` : ''}`);
      await sleep(PROGRESS_EVERY_MS / 10);
    }
    if (fatal) throw new Error(fatal);
    const lostWorkers = workers.filter((w) => !w.ready).length;
    if (lostWorkers > 0) {
      const missing = o.bots - joined - failed;
      if (missing > 0) for (let i = 0; i < missing; i++) count(origins[i % origins.length]!, 'worker exited');
      failed += Math.max(0, missing);
    }
    progress(`joined    ${progressBar(joined + failed, o.bots)} ${joined}/${o.bots}${failed ? `, ${failed} failed` : ''}`);

    // Every process a bot's room is in, and every process given.
    const processes = [...new Set([...origins, ...joins.keys()])];
    const mark = async (): Promise<{ sums: Map<string, BotFigures>; cpuMicros: number }> => {
      const sums = new Map<string, BotFigures>();
      const answers = await Promise.all(workers.map((w) => w.ask({ t: 'mark' }, (a) => (a.t === 'marked' ? a : undefined), 10_000)));
      let cpuMicros = 0;
      for (const a of answers) {
        cpuMicros += a?.cpuMicros ?? 0;
        for (const [url, f] of Object.entries(a?.perProcess ?? {})) {
          const s = sums.get(url) ?? { bots: 0, stateChanges: 0 };
          s.bots += f.bots;
          s.stateChanges += f.stateChanges;
          sums.set(url, s);
        }
      }
      return { sums, cpuMicros };
    };
    const loads = async (): Promise<Map<string, ServerLoad | string>> => {
      const out = new Map<string, ServerLoad | string>();
      if (!o.token) return out;
      await Promise.all(processes.map(async (u) => out.set(u, await readLoad(u, o.token!).catch((e: unknown) => (e as Error).message))));
      return out;
    };
    const [load0, mark0] = [await loads(), await mark()];
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    while (performance.now() < end) {
      await sleep(Math.min(PROGRESS_EVERY_MS, end - performance.now()));
      const s = (performance.now() - t0) / 1000;
      progress(`measuring ${progressBar(s, o.seconds)} ${s.toFixed(0)}/${o.seconds} s with ${joined} bots`);
    }
    const [load1, mark1] = [await loads(), await mark()];
    const seconds = (performance.now() - t0) / 1000;
    const [bots0, bots1] = [mark0.sums, mark1.sums];

    const reports: ProcessReport[] = processes.map((url) => {
      const b0 = bots0.get(url);
      const b1 = bots1.get(url);
      const changes = (b1?.stateChanges ?? 0) - (b0?.stateChanges ?? 0);
      const r: ProcessReport = {
        url,
        bots: b1?.bots ?? 0,
        joinMs: quantiles(joins.get(url) ?? []),
        failures: failures.get(url) ?? {},
        stateChangesPerBotSecond: b1?.bots ? changes / b1.bots / seconds : 0,
      };
      const a = load0.get(url);
      const b = load1.get(url);
      if (typeof a === 'object' && typeof b === 'object') {
        r.processId = b.processId;
        r.server = processLoad(a, b);
      } else r.serverError = !o.token ? 'no token' : typeof b === 'string' ? b : typeof a === 'string' ? a : 'not read';
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
      workers: workers.length,
      joined,
      failures: all,
      joinMs: quantiles([...joins.values()].flat()),
      seconds,
      botCpuCores: (mark1.cpuMicros - mark0.cpuMicros) / 1e6 / seconds,
      processes: reports,
    };
  } finally {
    await Promise.all(workers.map((w) => w.ask({ t: 'stop' }, (a) => (a.t === 'stopped' ? true : undefined), 15_000)));
    for (const w of workers) {
      const gone = await Promise.race([w.exited.then(() => true), sleep(2000).then(() => false)]);
      if (!gone) w.proc.kill('SIGKILL');
    }
  }
}
