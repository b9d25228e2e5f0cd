// `npm run loadtest [-- --bots 100 --seconds 10 --transport websocket --json]`: the shooter's server in a
// process of its own (examples/shooter/server/serve.ts, with a fresh load token), then `volley loadtest`'s
// bots in this one, joining the arena (with its 2 server-side bots moving and shooting); prints the report.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatLoadtest, runLoadtest } from 'volley';

const { values } = parseArgs({
  options: {
    bots: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    transport: { type: 'string', default: 'udp' },
    json: { type: 'boolean', default: false },
  },
});
const bots = Number(values.bots);
const seconds = Number(values.seconds);
const transport = values.transport;
if (
  !Number.isInteger(bots) ||
  bots < 1 ||
  !(seconds > 0) ||
  (transport !== 'udp' && transport !== 'websocket' && transport !== 'polling')
) {
  console.error('usage: npm run loadtest -- [--bots N] [--seconds S] [--transport udp|websocket|polling] [--json]');
  process.exit(2);
}

const token = randomBytes(16).toString('hex');
const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./server/serve.ts', import.meta.url))], {
  env: { ...process.env, PORT: '0', VOLLEY_LOAD_TOKEN: token, NODE_OPTIONS: '' },
  stdio: ['pipe', 'pipe', 'inherit'],
});
const killer = setTimeout(() => child.kill('SIGKILL'), (seconds + 120) * 1000).unref();
try {
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the server did not start within 30 s')), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve((JSON.parse(line) as { url: string }).url);
      }
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening`)));
  });
  const report = await runLoadtest({ url, bots, seconds, transport, room: 'arena', token }, (line) => {
    if (!values.json) process.stderr.write(process.stderr.isTTY ? `\r${line}\x1b[K` : `${line}\n`);
  });
  if (!values.json && process.stderr.isTTY) process.stderr.write('\n');
  console.log(values.json ? JSON.stringify(report) : formatLoadtest(report));
  process.exitCode = report.joined === bots ? 0 : 1;
} catch (e) {
  console.error(`loadtest: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  child.stdin.end();
  const exited = new Promise((r) => child.once('exit', r));
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
  clearTimeout(killer);
}
