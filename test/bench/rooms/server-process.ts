/**
 * A server process of the rooms benchmark (forked by rooms.bench.ts): `server-process.ts <kind> <transport>`
 * (kind: colyseus, volley or bare-ws).
 * It starts the server, sends { ready, url }, then answers the parent's commands: 'start' (begin measuring),
 * 'stop' (send the figures), 'exit' (close and exit). It exits on its own when the parent goes away or after
 * MAX_LIFE_MS, whichever comes first. With VOLLEY_BENCH_CPU_PROF=<dir> it writes a V8 CPU profile of the
 * measured span there (<kind>-<transport>-<clients>.cpuprofile), for finding where a server's time goes.
 */

import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector';
import { startBareWs } from './bare-ws-server.js';
import type { BenchServer, StartServer } from './bench-server.js';
import { TICK_MS } from './bench-state.js';
import { startColyseus } from './colyseus-server.js';
import { ServerMeter } from './server-meter.js';
import { volleyServer } from './volley-server.js';

const MAX_LIFE_MS = 180_000;

export type ServerCommand = 'start' | 'stop' | 'exit';

const [kind, transport] = process.argv.slice(2);
const start: StartServer | undefined =
  kind === 'bare-ws'
    ? startBareWs
    : kind === 'colyseus'
      ? startColyseus
      : kind === 'volley' && (transport === 'websocket' || transport === 'udp')
        ? volleyServer(transport)
        : undefined;
if (start === undefined || process.send === undefined) {
  console.error(`usage (forked with IPC): server-process.ts colyseus|volley|bare-ws websocket|udp (got ${kind} ${transport})`);
  process.exit(2);
}

const http = createServer();
let server: BenchServer | undefined;
const meter = new ServerMeter(http, TICK_MS, () => server?.clients() ?? 0);
const life = setTimeout(() => void exit(3), MAX_LIFE_MS);

async function exit(code: number): Promise<void> {
  clearTimeout(life);
  const closing = server?.close();
  server = undefined;
  await Promise.race([closing, new Promise((r) => setTimeout(r, 3000))]).catch(() => {});
  process.exit(code);
}

process.on('disconnect', () => void exit(0));
const profileDir = process.env['VOLLEY_BENCH_CPU_PROF'];
const inspector = profileDir ? new Session() : undefined;
inspector?.connect();

process.on('message', (command: ServerCommand) => {
  if (command === 'start') {
    inspector?.post('Profiler.enable', () => inspector.post('Profiler.start'));
    meter.start();
  } else if (command === 'stop') {
    const figures = meter.stop();
    process.send!({ figures });
    inspector?.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(`${profileDir}/${kind}-${transport}-${figures.clients}.cpuprofile`, JSON.stringify(result.profile));
    });
  } else if (command === 'exit') void exit(0);
});

try {
  server = await start(http, () => meter);
  process.send({ ready: true, url: server.url });
} catch (e) {
  process.send({ error: String((e as Error)?.stack ?? e) });
  await exit(1);
}
