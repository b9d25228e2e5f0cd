/**
 * One worker process of `volley loadtest` (forked by worker-pool.ts, so that thousands of bots are not one
 * event loop's work): it runs its share of the bots — real @volley/client sessions that connect to the
 * server processes in turn, joinOrCreate the room type and run the script — and tells the parent over IPC
 * (loadtest-ipc.ts) what happened to each. It ends when told to, when the parent goes away, or at the end
 * of its lifetime.
 */

import { connect, type Client, type Room } from '@volley/client';
import { Random } from '@volley/protocol';
import { loadScript, type BotContext, type BotScript } from './bot-script.js';
import { reasonOf } from './failure-reason.js';
import type { BotFigures, FromWorker, ToWorker, WorkerConfig } from './loadtest-ipc.js';

interface Bot {
  client: Client;
  room: Room;
  process: string;
  changes: number;
  timers: ReturnType<typeof setInterval>[];
}

const say = (m: FromWorker): void => {
  if (process.connected) process.send?.(m, undefined, {}, () => {}); // a closed channel: the parent is gone
};

/** `p`, or a rejection after `ms`; what `p` resolves to after that goes to `late` (to be closed). */
async function withTimeout<T>(p: Promise<T>, ms: number, what: string, late: (value: T) => void): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(() => {
            timedOut = true;
            reject(new Error(`${what} timed out`));
          }, ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
    if (timedOut) p.then(late, () => {});
  }
}

/** Runs `f`, ignoring what it throws or rejects with (a script's send refused while its session closes). */
function quietly(f: () => void | Promise<void>): void {
  try {
    const r = f();
    if (r && typeof r.then === 'function') r.then(undefined, () => {});
  } catch {
    // the next tick tries again
  }
}

class Bots {
  private readonly bots: Bot[] = [];
  private stopping = false;

  constructor(
    private readonly c: WorkerConfig,
    private readonly script: BotScript,
  ) {}

  async run(): Promise<void> {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < this.c.count && !this.stopping) await this.join(this.c.first + next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.c.batch, this.c.count)) }, lane));
    if (!this.stopping) say({ t: 'ready' });
  }

  private async join(index: number): Promise<void> {
    const via = this.c.urls[index % this.c.urls.length]!;
    const t0 = performance.now();
    let client: Client | undefined;
    let bot: Bot | undefined;
    try {
      client = await withTimeout(connect(via, { transports: [this.c.transport] }), this.c.joinTimeoutMs, 'connect', (c) => void c.close());
      const room = await withTimeout(client.joinOrCreate(this.c.room, this.c.joinOptions), this.c.joinTimeoutMs, 'join', () => {});
      const b: Bot = { client, room, process: room.serverUrl ?? new URL(via).origin, changes: 0, timers: [] };
      bot = b;
      room.onStateChange(() => void b.changes++);
      room.onMessage('*', () => {}); // a bot reads whatever the room sends it (a script may listen as well)
      const random = new Random(index);
      const ctx: BotContext = {
        room,
        index,
        random: () => random.float(),
        every: (ms, f) => void b.timers.push(setInterval(() => quietly(f), ms)),
      };
      try {
        await this.script(ctx);
      } catch (e) {
        throw new Error(`the script failed: ${(e as Error)?.message ?? String(e)}`, { cause: e });
      }
      if (this.stopping) throw new Error('the load test ended');
      this.bots.push(b);
      say({ t: 'joined', index, ms: performance.now() - t0, process: b.process });
      room.onLeave((code, text) => {
        for (const t of b.timers) clearInterval(t);
        if (!this.stopping) say({ t: 'lost', index, process: b.process, reason: `left ${code}${text ? `: ${reasonOf(text)}` : ''}` });
      });
    } catch (e) {
      for (const t of bot?.timers ?? []) clearInterval(t);
      if (!this.stopping) say({ t: 'failed', index, via, reason: reasonOf(e) });
      await client?.close().catch(() => {});
    }
  }

  /** Every bot that joined, by the process its room is in (the lost ones' changes included). */
  figures(): Record<string, BotFigures> {
    const out: Record<string, BotFigures> = {};
    for (const b of this.bots) {
      const f = (out[b.process] ??= { bots: 0, stateChanges: 0 });
      if (b.room.joined) f.bots++;
      f.stateChanges += b.changes;
    }
    return out;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const b of this.bots) for (const t of b.timers) clearInterval(t);
    await Promise.all(this.bots.map((b) => b.client.close().catch(() => {})));
  }
}

/** The worker's main: waits for 'start' from the parent. */
export function workerMain(): void {
  let bots: Bots | undefined;
  let lifetime: ReturnType<typeof setTimeout> | undefined;
  // Whatever no bot caught (a script's stray promise, a library's event): the run stops and says why.
  const fail = (e: unknown) => say({ t: 'error', message: `a worker failed: ${(e as Error)?.message ?? String(e)}` });
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  process.on('message', (m: ToWorker) => {
    if (m.t === 'start' && !bots) {
      lifetime = setTimeout(() => process.exit(3), m.config.lifetimeMs);
      loadScript(m.config.script)
        .then((script) => {
          bots = new Bots(m.config, script);
          return bots.run();
        })
        .catch(fail);
    } else if (m.t === 'mark') {
      const cpu = process.cpuUsage();
      say({ t: 'marked', id: m.id, perProcess: bots?.figures() ?? {}, cpuMicros: cpu.user + cpu.system });
    } else if (m.t === 'stop') {
      clearTimeout(lifetime);
      void (bots?.stop() ?? Promise.resolve()).then(() => {
        say({ t: 'stopped' });
        process.disconnect?.();
        setTimeout(() => process.exit(0), 500).unref();
      });
    }
  });
}

// Forked by worker-pool.ts with this set; imported for its types, it does nothing.
if (process.env['VOLLEY_LOADTEST_WORKER'] === '1') workerMain();
