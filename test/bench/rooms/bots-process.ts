/**
 * The bots of the rooms benchmark (forked by rooms.bench.ts): `bots-process.ts <kind> <transport> <url> <n>`.
 * N real clients (@colyseus/sdk, @volley/client, or for bare-ws a `ws` client with a schema Decoder) join the one bench room, then each sends an input every
 * tick and times every state change: wall clock now − the state's `stamp` (when the server made the tick's
 * mutations) is the mutation-to-callback time. Sends { joined, failures, joinMs } once all joins settled,
 * then answers 'start' (begin measuring), 'stop' (send the figures), 'exit'. Exits on its own when the parent
 * goes away or after MAX_LIFE_MS.
 */

import { Decoder } from '@colyseus/schema';
import { Client as ColyseusClient } from '@colyseus/sdk';
import { encode } from '@msgpack/msgpack';
import { WebSocket } from 'ws';
import { connect } from '@volley/client';
import { BenchState, INPUT_TYPE, ROOM_NAME, TICK_MS, wallClock } from './bench-state.js';
import { percentiles } from './server-meter.js';

const MAX_LIFE_MS = 180_000;
const JOIN_BATCH = 20;
const JOIN_TIMEOUT_MS = 15_000;

interface Bot {
  send(): void;
  leave(): Promise<void>;
}

const [kind, transport, url, count] = process.argv.slice(2);
const n = Number(count);
if (process.send === undefined || !url || !(n > 0) || (kind !== 'colyseus' && kind !== 'volley' && kind !== 'bare-ws')) {
  console.error(`usage (forked with IPC): bots-process.ts colyseus|volley|bare-ws websocket|udp <url> <n>`);
  process.exit(2);
}

let measuring = false;
let latencies: number[] = [];
let changes = 0;
let startedAt = 0;
let cpuAt = process.cpuUsage();

function onState(state: BenchState): void {
  if (!measuring || !(state.stamp > 0)) return;
  latencies.push(wallClock() - state.stamp);
  changes++;
}

async function joinColyseus(): Promise<Bot> {
  const client = new ColyseusClient(url);
  const room = await client.joinOrCreate(ROOM_NAME, {}, BenchState);
  room.onStateChange((state) => onState(state));
  return { send: () => room.send(INPUT_TYPE, { x: 1, y: 2 }), leave: () => room.leave().then(() => {}) };
}

async function joinVolley(): Promise<Bot> {
  const client = await connect(url!, { transports: [transport === 'udp' ? 'udp' : 'websocket'], statsInterval: 0 });
  try {
    const room = await client.joinOrCreate(ROOM_NAME, {}, BenchState);
    room.onStateChange((state) => onState(state));
    return { send: () => room.send(INPUT_TYPE, { x: 1, y: 2 }), leave: () => client.close() };
  } catch (e) {
    await client.close();
    throw e;
  }
}

/** The floor's client: the first message is the full state, every one after a patch. */
function joinBareWs(): Promise<Bot> {
  return new Promise<Bot>((resolve, reject) => {
    const ws = new WebSocket(url!);
    ws.binaryType = 'nodebuffer';
    const decoder = new Decoder(new BenchState());
    const input = encode({ x: 1, y: 2 });
    let joined = false;
    ws.on('error', (e) => joined || reject(e));
    ws.on('message', (data: Buffer) => {
      decoder.decode(data);
      onState(decoder.state);
      if (joined) return;
      joined = true;
      resolve({
        send: () => ws.send(input),
        leave: () => new Promise<void>((r) => (ws.once('close', () => r()), ws.close())),
      });
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no join in ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

const bots: Bot[] = [];
const timers: NodeJS.Timeout[] = [];
const failures: Record<string, number> = {};
const joinMs: number[] = [];
const life = setTimeout(() => void exit(3), MAX_LIFE_MS);

async function exit(code: number): Promise<void> {
  clearTimeout(life);
  for (const t of timers) clearInterval(t);
  await Promise.race([Promise.allSettled(bots.map((b) => b.leave())), new Promise((r) => setTimeout(r, 3000))]);
  process.exit(code);
}

process.on('disconnect', () => void exit(0));
process.on('message', (command: string) => {
  if (command === 'start') {
    measuring = true;
    latencies = [];
    changes = 0;
    startedAt = performance.now();
    cpuAt = process.cpuUsage();
  } else if (command === 'stop') {
    measuring = false;
    const seconds = (performance.now() - startedAt) / 1000;
    const cpu = process.cpuUsage(cpuAt);
    process.send!({
      figures: {
        seconds,
        bots: bots.length,
        mutationToCallbackMs: percentiles(latencies),
        stateChangesPerBotSecond: changes / Math.max(1, bots.length) / seconds,
        cpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
      },
    });
  } else if (command === 'exit') void exit(0);
});

const join = kind === 'colyseus' ? joinColyseus : kind === 'bare-ws' ? joinBareWs : joinVolley;
for (let i = 0; i < n; i += JOIN_BATCH) {
  await Promise.all(
    Array.from({ length: Math.min(JOIN_BATCH, n - i) }, async () => {
      const t0 = performance.now();
      try {
        const bot = await withTimeout(join(), JOIN_TIMEOUT_MS);
        joinMs.push(performance.now() - t0);
        bots.push(bot);
      } catch (e) {
        const reason = String((e as Error)?.message ?? e).slice(0, 120);
        failures[reason] = (failures[reason] ?? 0) + 1;
      }
    }),
  );
}
// Inputs at the tick rate, the bots' timers spread over the tick.
bots.forEach((bot, i) => {
  setTimeout(() => timers.push(setInterval(() => bot.send(), TICK_MS)), (i * TICK_MS) / bots.length);
});
process.send({ joined: bots.length, failures, joinMs: percentiles(joinMs) });
