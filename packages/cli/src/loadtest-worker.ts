/**
 * One worker process of `volley loadtest` (forked by loadtest.ts, so that thousands of bots are not one event
 * loop's work): it runs its share of the bots — real @volley/client sessions that connect to the server
 * processes in turn, joinOrCreate the room type and run the script — and tells the parent over IPC what
 * happened to each. It ends when told to, when the parent goes away, or at the end of its lifetime.
 */

import { connect, type Client, type Room } from '@volley/client';
import { Random } from '@volley/protocol';
import { loadScript, type BotContext } from './bot-script.js';

export interface WorkerConfig {
  /** The server processes' URLs; bot i connects to urls[i % urls.length] first. */
  urls: string[];
  /** This worker's bots: numbers first .. first + count - 1 of the whole test. */
  first: number;
  count: number;
  room: string;
  joinOptions: Record<string, unknown>;
  transport: 'udp' | 'websocket' | 'polling';
  script: string;
  /** Joins under way at once in this worker. */
  batch: number;
  joinTimeoutMs: number;
  /** The worker exits by itself after this long, whatever happens (ms). */
  lifetimeMs: number;
}

/** Parent → worker. */
export type ToWorker = { t: 'start'; config: WorkerConfig } | { t: 'mark' } | { t: 'stop' };

/** What the bots of one server process saw, summed, since the start. */
export interface BotFigures {
  bots: number;
  stateChanges: number;
}

/** Worker → parent. */
export type FromWorker =
  | { t: 'joined'; index: number; ms: number; process: string }
  | { t: 'failed'; index: number; via: string; reason: string }
  | { t: 'lost'; index: number; process: string; reason: string }
  | { t: 'ready' }
  | { t: 'marked'; perProcess: Record<string, BotFigures>; cpuMicros: number }
  | { t: 'stopped' }
  | { t: 'error'; message: string };

interface Bot {
  client: Client;
  room: Room;
  process: string;
  changes: number;
  timers: ReturnType<typeof setInterval>[];
}

/**
 * The reason a join failed, to count by: the error's code when it has one, and what it says with the
 * variable parts (numbers, ids, URLs) left out, so that the same failure counts as one reason.
 */
export function reasonOf(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  const text = String(err?.message ?? e)
    .replace(/\b\w+:\/\/\S+/g, 'URL')
    .replace(/\d+(\.\d+)?/g, 'N')
    .slice(0, 80);
  const code = typeof err?.code === 'string' ? err.code : typeof err?.name === 'string' && err.name !== 'Error' ? err.name : undefined;
  return code ? `${code} (${text})` : text;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const say = (m: FromWorker): void => void process.send?.(m);

async function run(c: WorkerConfig, bots: Bot[], stopping: () => boolean): Promise<void> {
  const script = await loadScript(c.script);
  let next = 0;
  const joinOne = async (index: number): Promise<void> => {
    const via = c.urls[index % c.urls.length]!;
    const t0 = performance.now();
    let client: Client | undefined;
    try {
      client = await withTimeout(connect(via, { transports: [c.transport] }), c.joinTimeoutMs, 'connect');
      const room = await withTimeout(client.joinOrCreate(c.room, c.joinOptions), c.joinTimeoutMs, 'join');
      const bot: Bot = { client, room, process: room.serverUrl ?? new URL(via).origin, changes: 0, timers: [] };
      bots.push(bot);
      say({ t: 'joined', index, ms: performance.now() - t0, process: bot.process });
      room.onStateChange(() => void bot.changes++);
      room.onMessage('*', () => {}); // a bot reads whatever the room sends it (a script may listen as well)
      room.onLeave((code, text) => {
        for (const t of bot.timers) clearInterval(t);
        if (!stopping()) say({ t: 'lost', index, process: bot.process, reason: `left ${code}${text ? `: ${text.slice(0, 60)}` : ''}` });
      });
      const random = new Random(index);
      const ctx: BotContext = {
        room,
        index,
        random: () => random.float(),
        every: (ms, f) => {
          bot.timers.push(
            setInterval(() => {
              try {
                f();
              } catch {
                // A send refused (the session closing, its queue full): the next tick tries again.
              }
            }, ms),
          );
        },
      };
      script(ctx);
    } catch (e) {
      say({ t: 'failed', index, via, reason: reasonOf(e) });
      await client?.close().catch(() => {});
    }
  };
  const lane = async (): Promise<void> => {
    while (next < c.count && !stopping()) await joinOne(c.first + next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(c.batch, c.count)) }, lane));
  say({ t: 'ready' });
}

function figures(bots: readonly Bot[]): Record<string, BotFigures> {
  const out: Record<string, BotFigures> = {};
  for (const b of bots) {
    if (!b.room.joined) continue;
    const f = (out[b.process] ??= { bots: 0, stateChanges: 0 });
    f.bots++;
    f.stateChanges += b.changes;
  }
  return out;
}

/** The worker's main: waits for 'start' from the parent. */
export function workerMain(): void {
  const bots: Bot[] = [];
  let stopping = false;
  let lifetime: ReturnType<typeof setTimeout> | undefined;
  const stop = async (): Promise<void> => {
    stopping = true;
    clearTimeout(lifetime);
    for (const b of bots) for (const t of b.timers) clearInterval(t);
    await Promise.all(bots.map((b) => b.client.close().catch(() => {})));
    say({ t: 'stopped' });
    process.disconnect?.();
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('disconnect', () => process.exit(0)); // the parent is gone
  process.on('message', (m: ToWorker) => {
    if (m.t === 'start') {
      lifetime = setTimeout(() => process.exit(3), m.config.lifetimeMs);
      run(m.config, bots, () => stopping).catch((e: unknown) => say({ t: 'error', message: (e as Error)?.message ?? String(e) }));
    } else if (m.t === 'mark') {
      const cpu = process.cpuUsage();
      say({ t: 'marked', perProcess: figures(bots), cpuMicros: cpu.user + cpu.system });
    } else if (m.t === 'stop') void stop();
  });
}

// Forked by loadtest.ts with this set; imported for its types, it does nothing.
if (process.env['VOLLEY_LOADTEST_WORKER'] === '1') workerMain();
