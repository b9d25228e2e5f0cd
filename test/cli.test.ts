/** The `volley` command as a user runs it: the built bin, real processes, real output. */

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../packages/cli/bin/volley.js', import.meta.url));
const cliDir = fileURLToPath(new URL('../packages/cli/', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
/** A bounded run with extra node flags and environment (each run is killed after 20 s). */
const runWith = (nodeArgs: string[], args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [...nodeArgs, bin, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
/** A line of a stack trace. */
const STACK = /^\s+at /m;

/** A `volley` child process; a hard timer kills it, and afterEach kills whatever a test left running. */
interface Volley {
  readonly process: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits (bounded: 15 s) until stdout matches `re`. */
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
}

const children = new Set<ChildProcess>();
afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
});

function start(args: string[], hardKillMs = 30_000): Volley {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const hardKill = setTimeout(() => child.kill('SIGKILL'), hardKillMs); // bound: never leave it running
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(hardKill);
      resolve(code);
    }),
  );
  const waitFor = async (re: RegExp) => {
    for (let i = 0; i < 600; i++) {
      const m = re.exec(out);
      if (m) return m;
      if (child.exitCode !== null || child.signalCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no ${re} in the output of volley ${args.join(' ')}:\n${out}\n${err}`);
  };
  return { process: child, out: () => out, err: () => err, exited, waitFor };
}

/** `volley serve` on a free port; resolves with the child and its URL. */
async function startServer(...args: string[]): Promise<{ server: Volley; url: string }> {
  const server = start(['serve', '--port', '0', ...args]);
  const m = await server.waitFor(/echo server on (http:\/\/\S+)/);
  return { server, url: m[1]! };
}

/** Whether this machine lets us listen on `host` (the IPv6 loopback is missing in some sandboxes). */
function canListen(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(0, host, () => s.close(() => resolve(true)));
  });
}
const ipv6 = await canListen('::1');

describe('volley CLI', () => {
  it('prints help for the command and each subcommand', () => {
    expect(run('--help').stdout).toMatch(/scenario abc/);
    expect(run('scenario', '--help').stdout).toMatch(/--json/);
    expect(run('sim', '--help').stdout).toMatch(/--reorder P/);
  });

  it('prints its version from package.json with --version and -V, and says so in the help', () => {
    const { version } = JSON.parse(readFileSync(`${cliDir}package.json`, 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = run(flag);
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe(version);
    }
    expect(run('--help').stdout).toMatch(/-V, --version/);
  });

  it('rejects bad usage with exit code 2 and a clear message', () => {
    const r = run('sim', '--loss', '2');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--loss must be a number from 0 to 1, got '2'/);
    expect(run('nope').status).toBe(2);
    expect(run('sim', '--channel', 'tcp').stderr).toMatch(/--channel must be one of/);
  });

  it('gives negative numbers the range message of their option', () => {
    const cases: [string[], string][] = [
      [['ping', 'http://127.0.0.1:9', '--count', '-1'], "--count must be an integer from 1 to 1000000, got '-1'"],
      [['ping', 'http://127.0.0.1:9', '--interval', '-20'], "--interval must be a number from 0 to 60000, got '-20'"],
      [['serve', '--port', '-5'], "--port must be an integer from 0 to 65535, got '-5'"],
      [['serve', '--udp-port', '-1'], "--udp-port must be an integer from 0 to 65535, got '-1'"],
      [['sim', '--loss', '-0.1'], "--loss must be a number from 0 to 1, got '-0.1'"],
      [['sim', '--latency', '-3'], "--latency must be a number from 0 to 60000, got '-3'"],
      [['sim', '--rate', '-.5'], "--rate must be a number from 0.001 to 1000000, got '-.5'"],
      [['scenario', 'abc', '--gap', '-1'], "--gap must be a number from 1 to 10000, got '-1'"],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/ambiguous/);
    }
  });

  it('reports an unexpected error as one line, exit 1, with the stack only under VOLLEY_DEBUG=1', () => {
    const boom = ['--import', 'data:text/javascript,console.log=()=>{throw new Error("boom")}'];
    const plain = runWith(boom, ['--help']);
    expect(plain.status).toBe(1);
    expect(plain.stderr.trim()).toBe('volley: boom');
    const debug = runWith(boom, ['--help'], { VOLLEY_DEBUG: '1' });
    expect(debug.status).toBe(1);
    expect(debug.stderr).toMatch(/^volley: boom$/m);
    expect(debug.stderr).toMatch(STACK);
    // Thrown from a timer while serving: out of main's reach, still one line.
    const late = runWith(
      ['--import', 'data:text/javascript,setTimeout(()=>{throw new Error("late")},1500)'],
      ['serve', '--port', '0', '--transports', 'websocket'],
    );
    expect(late.status).toBe(1);
    expect(late.stderr.trim()).toBe('volley: late');
  });

  it('refers to no document that is not in the repository', () => {
    expect(run('scenario', '--help').stdout).not.toMatch(/DESIGN|PLATFORM/);
    expect(run('scenario', 'abc').stdout).not.toMatch(/DESIGN|PLATFORM/);
    const sources = readdirSync(`${cliDir}src`).map((f) => `${cliDir}src/${f}`);
    for (const file of [...sources, `${cliDir}bin/volley.js`, `${cliDir}package.json`]) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(/DESIGN\.md|PLATFORM\.md/);
    }
  });

  it('scenario abc prints the numbered walkthrough, and JSON lines with --json', () => {
    const text = execFileSync(process.execPath, [bin, 'scenario', 'abc'], { encoding: 'utf8' });
    for (let step = 1; step <= 7; step++) expect(text).toContain(`[${step}]`);
    expect(text).toMatch(/retransmits message 1 \(B's shot\) in NEW packet 3/);
    const lines = execFileSync(process.execPath, [bin, 'scenario', 'abc', '--json'], { encoding: 'utf8' }).trim().split('\n');
    const events = lines.map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ event: 'done', buffered: 0 });
    for (const e of events) expect(e).toHaveProperty('t');
  });
});

describe('volley sim', () => {
  it('--json reports a lossy reliable-ordered run delivered exactly once and in order', () => {
    const r = run('sim', '--loss', '0.2', '--duplicate', '0.1', '--reorder', '0.1', '--jitter', '20', '--messages', '3000', '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      sent: 3000,
      delivered: 3000,
      duplicates: 0,
      outOfOrder: 0,
      lost: 0,
      undelivered: 0,
      complete: true,
      notes: [],
      seed: 1,
    });
    expect(report.retransmissions).toBeGreaterThan(0);
    expect(report.bytesOnWire).toBeGreaterThan(report.payloadBytes);
    for (const k of ['p50', 'p95', 'p99', 'max']) expect(report.latencyMs[k]).toBeGreaterThan(0);
  });

  it('says so, and exits 1, when the connection never comes up', () => {
    const note = 'the connection never came up (every CONNECT was lost: loss 1 each way)';
    const table = run('sim', '--loss', '1');
    expect(table.status).toBe(1);
    expect(table.stdout).toMatch(/^connection\s+never came up$/m);
    expect(table.stdout).toContain(`note: ${note}`);
    const json = run('sim', '--loss', '1', '--json');
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ connected: false, complete: false, sent: 0, lost: 0, notSent: 1000, notes: [note] });
    expect(json.stderr).toContain(note);
  });

  it('reports messages still under way at the simulated-time cap as undelivered, not lost', () => {
    // A 10 s round trip holds the reliable window to ~100 messages/s: the cap comes before the last of them.
    const args = ['sim', '--messages', '20000', '--rate', '1000000', '--latency', '5000'];
    const json = run(...args, '--json');
    expect(json.status).toBe(1);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ connected: true, complete: false, lost: 0, requested: 20000 });
    expect(r.undelivered).toBeGreaterThan(0);
    expect(r.sent).toBe(r.delivered + r.undelivered);
    expect(r.notSent).toBe(20000 - r.sent);
    expect(r.simulatedMs).toBe(r.timeCapMs);
    const capNote = new RegExp(
      `^${r.undelivered} messages still in flight or queued when the simulated-time cap \\([\\d.]+ s\\) was reached: not lost$`,
    );
    expect(r.notes.some((n: string) => capNote.test(n))).toBe(true);
    expect(r.notes.some((n: string) => /messages not sent by the simulated-time cap .*backpressure/.test(n))).toBe(true);
    const table = run(...args);
    expect(table.stdout).toMatch(new RegExp(`^undelivered at time cap\\s+${r.undelivered} \\(in flight or queued, not lost\\)$`, 'm'));
    expect(table.stdout).toMatch(/^note: \d+ messages still in flight or queued when the simulated-time cap/m);
  });

  it('waits out the link latency before counting unreliable messages lost', () => {
    const r = run('sim', '--channel', 'unreliable', '--latency', '5000', '--messages', '2000', '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ sent: 2000, delivered: 2000, lost: 0, undelivered: 0, complete: true });
  });
});

describe('volley serve', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`prints where it listens and stops cleanly on ${signal}`, async () => {
      const { server } = await startServer('--transports', 'websocket,polling');
      expect(server.out()).toMatch(/echo server on http:\/\/127\.0\.0\.1:\d+/);
      expect(server.out()).toContain('transports: websocket, polling');
      server.process.kill(signal);
      expect(await server.exited).toBe(0);
      expect(server.out()).toContain(`${signal}, closing`);
      expect(server.out()).toContain('stopped');
    });
  }

  it('says a busy port is in use, in one line, exit 1', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const r = runWith([], ['serve', '--port', String(port), '--transports', 'websocket']);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(`volley serve: port ${port} is already in use (try --port 0 or another port)`);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it('says a busy UDP port is in use, and frees the HTTP port it had bound', async () => {
    const busy = createSocket('udp4');
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', r));
    const port = busy.address().port;
    try {
      const r = runWith([], ['serve', '--port', '0', '--udp-port', String(port), '--transports', 'websocket,udp']);
      expect(r.status).toBe(1); // exits: nothing left listening
      expect(r.stderr.trim()).toBe(`volley serve: UDP port ${port} is already in use (try --udp-port 0 or another port)`);
    } finally {
      busy.close();
    }
  });

  it('says a host cannot be used, in one line, exit 1', () => {
    // A name that never resolves, and an address of no interface here (the bind fails: nothing is sent).
    const unknown = runWith([], ['serve', '--host', 'nosuch.invalid', '--port', '0']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr.trim()).toMatch(/^volley serve: cannot resolve host 'nosuch\.invalid' \(E[A-Z_]+\)/);
    const foreign = runWith([], ['serve', '--host', '192.0.2.1', '--port', '0']);
    expect(foreign.status).toBe(1);
    expect(foreign.stderr.trim()).toBe('volley serve: cannot listen on 192.0.2.1: not an address of this machine (try --host 127.0.0.1)');
    for (const r of [unknown, foreign]) expect(r.stderr).not.toMatch(STACK);
  });

  it('says a --rooms module or a --redis that cannot be used, in one line, exit 1', () => {
    const dir = mkdtempSync(join(tmpdir(), 'volley-rooms-'));
    try {
      const notAFunction = join(dir, 'rooms.mjs');
      writeFileSync(notAFunction, 'export default 3;\n');
      const cases: [string[], string | RegExp][] = [
        [['--rooms', join(dir, 'none.mjs')], `volley serve: --rooms ${join(dir, 'none.mjs')}: cannot load it: `],
        [['--rooms', notAFunction], `volley serve: --rooms ${notAFunction}: its default export must be a function (server) => void`],
        // Nothing listens on port 1: the server says Redis is unreachable, then the command gives up on it.
        [['--redis', 'redis://127.0.0.1:1'], /^volley serve: --redis redis:\/\/127\.0\.0\.1:1: cannot reach Redis/m],
      ];
      for (const [args, message] of cases) {
        const r = runWith([], ['serve', '--port', '0', '--transports', 'websocket', ...args]);
        expect(r.status, args.join(' ')).toBe(1);
        expect(r.stderr).toMatch(
          typeof message === 'string' ? new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`, 'm') : message,
        );
        expect(r.stderr).not.toMatch(STACK);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const usage: [string[], string][] = [
      [['--redis', 'http://127.0.0.1:6379'], "--redis must be a redis:// URL, got 'http://127.0.0.1:6379'"],
      [['--per-source', '0'], "--per-source must be an integer from 1 to 100000, got '0'"],
      [['--public-url', 'ftp://x'], "--public-url must be an http(s) URL, got 'ftp://x'"],
    ];
    for (const [args, message] of usage) {
      const r = run('serve', '--port', '0', ...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it('prints an IPv6 host as a URL that parses (http://[::1]:PORT), and ping works against it', async () => {
    expect(ipv6, 'IPv6 loopback (::1) is needed here: npm test brings lo up, with ::1, in its own namespace').toBe(true);
    const { server, url } = await startServer('--host', '::1', '--transports', 'websocket,udp');
    expect(url).toMatch(/^http:\/\/\[::1\]:\d+$/);
    expect(server.out()).toMatch(/udp: \[::1\]:\d+/);
    expect(server.out()).toContain(`try: npx volley ping ${url}`);
    for (const transport of ['websocket', 'udp']) {
      const ping = start(['ping', url, '--count', '3', '--interval', '10', '--transport', transport, '--json']);
      expect(await ping.exited).toBe(0);
      expect(JSON.parse(ping.out())).toMatchObject({ transport, sent: 3, received: 3 });
    }
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});

describe('volley ping', () => {
  it('measures round trips through a real server, forced and automatic', async () => {
    const { Server } = await import('@volley/server');
    const { execFile } = await import('node:child_process');
    const server = new Server({ port: 0, udpPort: 0, transports: ['websocket', 'polling'] });
    server.onAnyMessage((session, type, data, { channel }) => session.send(type, data, { channel }));
    await server.listen();
    const ping = (...args: string[]) =>
      new Promise<Record<string, unknown>>((resolve, reject) =>
        execFile(
          process.execPath,
          [bin, 'ping', server.address().url, '--count', '20', '--interval', '2', '--json', ...args],
          { timeout: 60_000 },
          (err, stdout) => (err ? reject(err) : resolve(JSON.parse(stdout) as Record<string, unknown>)),
        ),
      );
    try {
      const forced = await ping('--transport', 'polling');
      expect(forced).toMatchObject({ transport: 'polling', sent: 20, received: 20, lossPercent: 0 });
      expect((forced.rtt as { p50: number }).p50).toBeGreaterThan(0);
      const auto = await ping('--transport', 'auto', '--reliable');
      expect(auto).toMatchObject({ transport: 'websocket', received: 20, lossPercent: 0 });
      expect((auto.failures as { transport: string }[]).map((f) => f.transport)).toEqual(['udp', 'webrtc']);
    } finally {
      await server.close();
    }
  });

  /** Pings a `volley serve` child, stops the server with `signal` after a few replies, and returns what ping did. */
  async function pingThenStopServer(transport: string, signal: 'SIGTERM' | 'SIGKILL') {
    const { server, url } = await startServer('--transports', transport);
    const ping = start(['ping', url, '--count', '200', '--interval', '20', '--transport', transport]);
    await ping.waitFor(/seq=5 /);
    server.process.kill(signal);
    await server.exited;
    const code = await ping.exited;
    return { code, out: ping.out(), err: ping.err() };
  }

  const summary = /^(\d+)(?: of 200)? probes sent, (\d+) received, [\d.]+% loss$/m;

  for (const transport of ['websocket', 'udp']) {
    it(`says the server closed the session when it stops (SIGTERM), then the summary so far (${transport}), exit 1`, async () => {
      const r = await pingThenStopServer(transport, 'SIGTERM');
      expect(r.code).toBe(1);
      expect(r.err).toContain('volley ping: the server closed the session: ShuttingDown (server shutting down)');
      expect(r.out).toMatch(/^\d+ of 200 probes sent, \d+ received/m);
      expect(r.out).toMatch(/^rtt min\/avg\/max\/mdev = /m);
      expect(r.err).not.toMatch(STACK);
    });

    it(`says it lost the server when the server dies (SIGKILL), then the summary, exit 1 (${transport})`, async () => {
      const r = await pingThenStopServer(transport, 'SIGKILL');
      expect(r.code).toBe(1); // it exited on its own: the hard kill would give null
      expect(r.err).toMatch(/^volley ping: lost the server: .+$/m);
      const [, sent, received] = summary.exec(r.out) ?? [];
      expect(Number(received)).toBeGreaterThanOrEqual(6);
      expect(Number(received)).toBeLessThan(Number(sent));
      expect(r.out).toMatch(/^rtt min\/avg\/max\/mdev = /m);
      expect(r.err).not.toMatch(STACK);
    });
  }

  it('stops at Ctrl-C with the summary of what was sent, exit 0 when replies came', async () => {
    const { server, url } = await startServer('--transports', 'websocket');
    const ping = start(['ping', url, '--count', '1000', '--interval', '20']);
    await ping.waitFor(/seq=3 /);
    ping.process.kill('SIGINT');
    expect(await ping.exited).toBe(0);
    expect(ping.out()).toMatch(/^\d+ of 1000 probes sent, \d+ received/m);
    server.process.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  });
});
