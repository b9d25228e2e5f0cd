// `npm run loadtest [-- --processes 3 --bots 300 --seconds 10 --script shoot --transport udp --json]`: the
// shooter's server in processes of their own (examples/shooter/server/serve.ts, a fresh load token; with
// --processes above 1, a redis-server on loopback that they share, docs/scaling.md), then `volley
// loadtest`'s bots in worker processes, joining arenas across them (each with its 2 server-side bots);
// prints the report per process. The default script plays as the page does (loadtest-bot.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatLoadtest, runLoadtest } from 'volley';

const { values } = parseArgs({
  options: {
    processes: { type: 'string', default: '1' },
    bots: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    transport: { type: 'string', default: 'udp' },
    script: { type: 'string', default: fileURLToPath(new URL('./loadtest-bot.ts', import.meta.url)) },
    workers: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const processes = Number(values.processes);
const bots = Number(values.bots);
const seconds = Number(values.seconds);
const transport = values.transport;
if (
  !Number.isInteger(processes) ||
  processes < 1 ||
  processes > 32 ||
  !Number.isInteger(bots) ||
  bots < 1 ||
  !(seconds > 0) ||
  (transport !== 'udp' && transport !== 'websocket' && transport !== 'polling')
) {
  console.error(
    'usage: npm run loadtest -- [--processes N] [--bots N] [--seconds S] [--script idle|move|shoot|MODULE] [--workers W]\n' +
      '                          [--transport udp|websocket|polling] [--json]',
  );
  process.exit(2);
}

const token = randomBytes(16).toString('hex');
const children: ChildProcess[] = [];
const lifetimeMs = (seconds + 180) * 1000 + bots * 100;

/** A child that is killed when this process ends, or after the run's lifetime whatever happens. */
function child(command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(command, args, { env: { ...process.env, ...env, NODE_OPTIONS: '' }, stdio: ['pipe', 'pipe', 'inherit'] });
  setTimeout(() => c.kill('SIGKILL'), lifetimeMs).unref();
  children.push(c);
  return c;
}

/** Resolves with the first stdout line `pick` accepts; rejects if the child exits first or after 30 s. */
function line<T>(c: ChildProcess, what: string, pick: (line: string) => T | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s`)), 30_000);
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      for (const l of out.split('\n')) {
        const v = pick(l);
        if (v !== undefined) {
          clearTimeout(timer);
          resolve(v);
          return;
        }
      }
    });
    c.once('exit', (code) => reject(new Error(`${what} exited (${code}) before it was ready`)));
    c.once('error', (e) =>
      reject(new Error(`${what}: ${e.message}${/ENOENT/.test(e.message) ? ' (is it installed? apt install redis-server)' : ''}`)),
    );
  });
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof a === 'object' && a ? a.port : 0;
}

try {
  let redis: string | undefined;
  if (processes > 1) {
    const port = await freePort();
    const r = child('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
    await line(r, 'redis-server', (l) => (/Ready to accept connections/.test(l) ? true : undefined));
    redis = `redis://127.0.0.1:${port}`;
  }
  const serve = fileURLToPath(new URL('./server/serve.ts', import.meta.url));
  const urls = await Promise.all(
    Array.from({ length: processes }, (_, i) => {
      const env: Record<string, string> = { PORT: '0', VOLLEY_LOAD_TOKEN: token, VOLLEY_PROCESS_ID: `shooter-${i + 1}` };
      if (redis) env['VOLLEY_REDIS'] = redis;
      const c = child(process.execPath, ['--import', 'tsx', serve], env);
      return line(c, `server ${i + 1}`, (l) => (l.startsWith('{') ? (JSON.parse(l) as { url: string }).url : undefined));
    }),
  );
  const report = await runLoadtest(
    {
      urls,
      bots,
      seconds,
      transport,
      room: 'arena',
      token,
      script: values.script,
      ...(values.workers ? { workers: Number(values.workers) } : {}),
    },
    (l) => {
      if (!values.json) process.stderr.write(process.stderr.isTTY ? `\r${l}\x1b[K` : `${l}\n`);
    },
  );
  if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
  console.log(values.json ? JSON.stringify(report) : formatLoadtest(report));
  process.exitCode = report.joined === bots && report.lost === 0 ? 0 : 1;
} catch (e) {
  console.error(`loadtest: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  // The servers first (they stop when their stdin closes), then Redis.
  const ends = children.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r))));
  for (const c of children.slice().reverse()) {
    if (c.spawnfile === 'redis-server') continue;
    c.stdin?.end();
  }
  await Promise.race([Promise.all(ends.slice(processes > 1 ? 1 : 0)), new Promise((r) => setTimeout(r, 5000))]);
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null) c.kill(c.spawnfile === 'redis-server' ? 'SIGTERM' : 'SIGKILL');
  await Promise.race([Promise.all(ends), new Promise((r) => setTimeout(r, 3000))]);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}
