/**
 * `volley loadtest`'s worker processes (loadtest-worker.ts), forked from this one: each is started with its
 * share of the bots, asked for its figures (`mark`, answered by id), and stopped. A worker that exits before
 * it is told to is noticed: its bots are reported as failed or lost, never silently left out.
 */

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerConfig } from './loadtest-ipc.js';

/** The worker script beside this module: compiled (dist/*.js), or the source under a TypeScript loader. */
function workerPath(): string {
  return fileURLToPath(import.meta.url).replace(/worker-pool\.(js|ts)$/, 'loadtest-worker.$1');
}

/** The flags a worker runs with: this process's, less a debugger's (its port is taken), plus tsx for TypeScript. */
function workerFlags(typescript: boolean): string[] {
  const own = process.execArgv.filter((a) => !/^--(inspect|debug)/.test(a));
  return typescript && !own.some((a) => /tsx/.test(a)) ? [...own, '--import', 'tsx'] : own;
}

export class PoolWorker {
  readonly proc: ChildProcess;
  readonly exited: Promise<void>;
  ready = false;
  stopped = false;
  exitCode: number | null = null;
  /** What it said on stderr (the last 2 000 characters), for an exit before it was ready. */
  stderr = '';
  /** Its bots that it has reported on (joined or failed). */
  readonly reported = new Set<number>();
  readonly joinedBots = new Map<number, string>();
  private readonly waiting = new Map<number, (m: FromWorker) => void>();

  constructor(
    readonly config: WorkerConfig,
    hear: (w: PoolWorker, m: FromWorker) => void,
  ) {
    const path = workerPath();
    const typescript = [config.script, path].some((f) => /\.[cm]?tsx?$/.test(f));
    this.proc = fork(path, [], {
      execArgv: workerFlags(typescript),
      env: { ...process.env, VOLLEY_LOADTEST_WORKER: '1' },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    this.proc.stderr?.setEncoding('utf8');
    this.proc.stderr?.on('data', (t: string) => {
      process.stderr.write(t);
      this.stderr = (this.stderr + t).slice(-2000);
    });
    this.proc.on('error', () => {}); // a send on a channel that just closed: the exit says the rest
    this.exited = new Promise((resolve) =>
      this.proc.once('exit', (code) => {
        this.exitCode = code;
        resolve();
      }),
    );
    this.proc.on('message', (m: FromWorker) => {
      if (m.t === 'ready') this.ready = true;
      if (m.t === 'stopped') this.stopped = true;
      if (m.t === 'joined') this.joinedBots.set(m.index, m.process);
      if (m.t === 'joined' || m.t === 'failed') this.reported.add(m.index);
      if (m.t === 'marked') this.waiting.get(m.id)?.(m);
      hear(this, m);
    });
    this.tell({ t: 'start', config });
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  tell(m: ToWorker): void {
    if (this.proc.connected) this.proc.send(m, undefined, {}, () => {});
  }

  /** Its figures now, or undefined if it does not answer within `ms` (or is gone). */
  async mark(id: number, ms: number): Promise<Extract<FromWorker, { t: 'marked' }> | undefined> {
    if (!this.proc.connected) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await new Promise((resolve) => {
        timer = setTimeout(() => resolve(undefined), ms);
        this.waiting.set(id, (m) => resolve(m as Extract<FromWorker, { t: 'marked' }>));
        void this.exited.then(() => resolve(undefined));
        this.tell({ t: 'mark', id });
      });
    } finally {
      clearTimeout(timer);
      this.waiting.delete(id);
    }
  }
}

export class WorkerPool {
  readonly workers: PoolWorker[] = [];
  private marks = 0;

  constructor(configs: readonly WorkerConfig[], hear: (w: PoolWorker, m: FromWorker) => void) {
    for (const c of configs) this.workers.push(new PoolWorker(c, hear));
  }

  /** Every worker's figures, by worker (undefined for one that did not answer). */
  async mark(ms = 10_000): Promise<(Extract<FromWorker, { t: 'marked' }> | undefined)[]> {
    const id = ++this.marks;
    return Promise.all(this.workers.map((w) => w.mark(id, ms)));
  }

  /** Tells every worker to stop, waits for them together (at most `ms`), then kills any still running. */
  async stop(ms = 15_000): Promise<void> {
    for (const w of this.workers) w.tell({ t: 'stop' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(this.workers.map((w) => w.exited)), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    for (const w of this.workers) if (w.alive) w.proc.kill('SIGKILL');
  }
}
