/**
 * Rooms benchmark: Volley's rooms against Colyseus 0.18's, side by side in one run, on the same state
 * (rooms/bench-state.ts: 100 players with x, y, angle, hp, a tenth of them moving per tick, 20 Hz patches)
 * and the same N bots, each sending an input every tick and timing every state change. Per case a fresh
 * server process (rooms/server-process.ts) and a fresh bots process (rooms/bots-process.ts), on 127.0.0.1
 * only; the figures are taken over MEASURE_MS after WARMUP_MS, in the server process (CPU, bytes, ticks,
 * patch time) and in the bots process (mutation-to-callback time). Cases: the floor (a bare `ws` server
 * that sends each tick's schema patch to every client and reads inputs, nothing else: what any WebSocket
 * server in Node pays for this traffic); Colyseus on its WebSocket transport; Volley on WebSocket and on UDP. Every child is told to exit, and killed by its PID if it
 * has not MAX_EXIT_MS later; every wait is bounded. Figures only: nothing here asserts on speed.
 */

import { fork, type ChildProcess } from 'node:child_process';
import type { ServerFigures, Percentiles } from './rooms/server-meter.js';

const WARMUP_MS = 2000;
const MEASURE_MS = 5000;
const READY_TIMEOUT_MS = 15_000;
const JOIN_TIMEOUT_MS = 90_000;
const REPLY_TIMEOUT_MS = 10_000;
const MAX_EXIT_MS = 8000;
const DEFAULT_CLIENTS = [50, 200];

export interface BotFigures {
  seconds: number;
  bots: number;
  mutationToCallbackMs: Percentiles;
  stateChangesPerBotSecond: number;
  cpuCores: number;
}

export interface RoomsCase {
  name: string;
  framework: 'colyseus' | 'volley' | 'bare-ws';
  transport: 'websocket' | 'udp';
  clients: number;
  joined?: number;
  joinFailures?: Record<string, number>;
  joinMs?: Percentiles;
  server?: ServerFigures;
  bots?: BotFigures;
  error?: string;
}

export interface RoomsRatios {
  clients: number;
  /** Volley's figure over Colyseus's: above 1 is better for clientsPerCore, below 1 for the others. */
  versus: string;
  clientsPerCore: number;
  bytesOutPerClient: number;
  patchP50: number;
  callbackP50: number;
  callbackP99: number;
}

export interface RoomsBenchResult {
  method: string;
  seconds: number;
  cases: RoomsCase[];
  ratios: RoomsRatios[];
}

const SPECS: Array<Pick<RoomsCase, 'name' | 'framework' | 'transport'>> = [
  { name: 'floor: bare ws + schema', framework: 'bare-ws', transport: 'websocket' },
  { name: 'colyseus 0.18 websocket', framework: 'colyseus', transport: 'websocket' },
  { name: 'volley websocket', framework: 'volley', transport: 'websocket' },
  { name: 'volley udp', framework: 'volley', transport: 'udp' },
];

function clientCounts(): number[] {
  const env = process.env['VOLLEY_BENCH_ROOM_CLIENTS'];
  if (!env) return DEFAULT_CLIENTS;
  const counts = env.split(',').map(Number);
  if (counts.some((c) => !Number.isInteger(c) || c < 1 || c > 2000)) {
    throw new Error(`VOLLEY_BENCH_ROOM_CLIENTS: comma-separated client counts from 1 to 2000 (got ${env})`);
  }
  return counts;
}

function spawn(file: string, args: string[]): ChildProcess {
  const child = fork(new URL(file, import.meta.url), args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  // The children's output goes to stderr: stdout carries the benchmark's JSON.
  child.stdout?.pipe(process.stderr);
  child.stderr?.pipe(process.stderr);
  return child;
}

/** The next IPC message from `child` that has `key`, or a rejection after `ms` or if it exits first. */
function reply<T>(child: ChildProcess, key: string, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no '${key}' from the child in ${ms} ms`)), ms);
    const onMessage = (m: Record<string, unknown>) => {
      if (typeof m === 'object' && m !== null && 'error' in m) done(new Error(String(m['error'])));
      else if (typeof m === 'object' && m !== null && key in m) done(undefined, m as T);
    };
    const onExit = (code: number | null) => done(new Error(`the child exited (${code}) before '${key}'`));
    function done(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value!);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.send('exit');
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), MAX_EXIT_MS);
  await exited;
  clearTimeout(timer);
}

async function runCase(spec: Pick<RoomsCase, 'name' | 'framework' | 'transport'>, clients: number): Promise<RoomsCase> {
  const result: RoomsCase = { ...spec, clients };
  let server: ChildProcess | undefined;
  let bots: ChildProcess | undefined;
  try {
    server = spawn('./rooms/server-process.ts', [spec.framework, spec.transport]);
    const { url } = await reply<{ url: string }>(server, 'ready', READY_TIMEOUT_MS);
    bots = spawn('./rooms/bots-process.ts', [spec.framework, spec.transport, url, String(clients)]);
    const joined = await reply<{ joined: number; failures: Record<string, number>; joinMs: Percentiles }>(bots, 'joined', JOIN_TIMEOUT_MS);
    result.joined = joined.joined;
    result.joinFailures = joined.failures;
    result.joinMs = joined.joinMs;
    await new Promise((r) => setTimeout(r, WARMUP_MS));
    server.send('start');
    bots.send('start');
    await new Promise((r) => setTimeout(r, MEASURE_MS));
    const serverFigures = reply<{ figures: ServerFigures }>(server, 'figures', REPLY_TIMEOUT_MS);
    const botFigures = reply<{ figures: BotFigures }>(bots, 'figures', REPLY_TIMEOUT_MS);
    server.send('stop');
    bots.send('stop');
    result.server = (await serverFigures).figures;
    result.bots = (await botFigures).figures;
  } catch (e) {
    result.error = String((e as Error)?.message ?? e);
  } finally {
    await stop(bots);
    await stop(server);
  }
  return result;
}

function ratio(c: RoomsCase, base: RoomsCase): RoomsRatios | undefined {
  if (!c.server || !c.bots || !base.server || !base.bots) return undefined;
  return {
    clients: c.clients,
    versus: `${c.name} / ${base.name}`,
    clientsPerCore: c.server.clientsPerCore / base.server.clientsPerCore,
    bytesOutPerClient: c.server.bytesOutPerClientSecond / base.server.bytesOutPerClientSecond,
    patchP50: c.server.patchMs.p50 / base.server.patchMs.p50,
    callbackP50: c.bots.mutationToCallbackMs.p50 / base.bots.mutationToCallbackMs.p50,
    callbackP99: c.bots.mutationToCallbackMs.p99 / base.bots.mutationToCallbackMs.p99,
  };
}

/** Volley against Colyseus, then Colyseus and Volley against the floor, per client count. */
function ratios(cases: RoomsCase[]): RoomsRatios[] {
  const out: RoomsRatios[] = [];
  for (const clients of new Set(cases.map((c) => c.clients))) {
    const at = cases.filter((c) => c.clients === clients);
    const colyseus = at.find((c) => c.framework === 'colyseus');
    const floor = at.find((c) => c.framework === 'bare-ws');
    const volley = at.filter((c) => c.framework === 'volley');
    const pairs = [...volley.map((v) => [v, colyseus] as const), ...[colyseus, ...volley].map((c) => [c, floor] as const)];
    for (const [c, base] of pairs) {
      const r = c && base ? ratio(c, base) : undefined;
      if (r) out.push(r);
    }
  }
  return out;
}

export async function runRoomsBench(): Promise<RoomsBenchResult> {
  const started = performance.now();
  const cases: RoomsCase[] = [];
  for (const clients of clientCounts()) {
    for (const spec of SPECS) cases.push(await runCase(spec, clients));
  }
  return {
    method:
      `per case a fresh server process and a fresh bots process on 127.0.0.1; one room; ${WARMUP_MS} ms warm-up, ` +
      `${MEASURE_MS} ms measured. Server CPU: process.cpuUsage (user + system) per wall second; clients per core = ` +
      `clients / that. Bytes: TCP payload (WebSocket framing included) from every socket of the HTTP server, UDP ` +
      `payload from node:dgram; no IP/TCP/UDP headers. Patch time: from the end of a tick's mutations to the end ` +
      `of the microtasks its patch call queued (encode + hand to every client; Volley writes its packets in a ` +
      `microtask). Mutation to callback: the bot's wall clock at onStateChange − the stamp the server set with ` +
      `the mutations (same machine, same clock). Tick late: interval between ticks − ${50} ms.`,
    seconds: (performance.now() - started) / 1000,
    cases,
    ratios: ratios(cases),
  };
}

const f = (n: number | undefined, digits = 1) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));

export function roomsTable(result: RoomsBenchResult): string {
  const head = [
    'case',
    'clients',
    'joined',
    'cpu cores',
    'µs/client/s',
    'clients/core',
    'B out/client/s',
    'B in/client/s',
    'dgrams out/client/s',
    'patch p50/p99 ms',
    'tick late p99 ms',
    'loop p99 ms',
    'callback p50/p99 ms',
    'changes/bot/s',
    'bots cpu',
  ];
  const body = result.cases.map((c) => {
    const s = c.server;
    const b = c.bots;
    if (c.error !== undefined) return [c.name, String(c.clients), String(c.joined ?? '-'), `ERROR: ${c.error}`];
    return [
      c.name,
      String(c.clients),
      String(c.joined ?? '-'),
      f(s?.cpuCores, 3),
      f(s?.cpuMicrosPerClientSecond, 0),
      f(s?.clientsPerCore, 0),
      f(s?.bytesOutPerClientSecond, 0),
      f(s?.bytesInPerClientSecond, 0),
      c.transport === 'udp' ? f(s?.datagramsOutPerClientSecond, 1) : '-',
      `${f(s?.patchMs.p50, 2)}/${f(s?.patchMs.p99, 2)}`,
      f(s?.tickLateMs.p99, 1),
      f(s?.eventLoopDelayMs.p99, 1),
      `${f(b?.mutationToCallbackMs.p50, 2)}/${f(b?.mutationToCallbackMs.p99, 2)}`,
      f(b?.stateChangesPerBotSecond, 1),
      f(b?.cpuCores, 2),
    ];
  });
  const rows = [head, ...body];
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const ratioLines = result.ratios.map(
    (r) =>
      `${r.clients} clients, ${r.versus}: clients per core ×${r.clientsPerCore.toFixed(2)}, bytes out per client ×${r.bytesOutPerClient.toFixed(2)}, ` +
      `patch p50 ×${r.patchP50.toFixed(2)}, mutation→callback p50 ×${r.callbackP50.toFixed(2)}, p99 ×${r.callbackP99.toFixed(2)}`,
  );
  return [...rows.map(line), '', ...ratioLines].join('\n');
}
