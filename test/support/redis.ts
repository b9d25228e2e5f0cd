/**
 * A real redis-server (Debian's package) for the scale-out tests, on 127.0.0.1 and a port of its own, with
 * nothing saved to disk. It lives under a small shell that ends it when its stdin closes: when the test
 * stops it, and also when the test process dies without stopping it. `restart()` is a new server on the
 * same port, empty (a restart keeps nothing, as with `--save ''` in production).
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** Whether redis-server is installed here (`.ci/run` installs it). */
export const haveRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  if (typeof a !== 'object' || !a) throw new Error('no port');
  return a.port;
}

// The shell starts redis-server, waits for its own stdin to close, then stops it (SIGTERM, then SIGKILL).
const WRAPPER = 'redis-server "$@" & r=$!; cat >/dev/null; kill $r 2>/dev/null; sleep 0.5; kill -9 $r 2>/dev/null; wait $r';

export class RedisProcess {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> | undefined;
  private log = '';

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<RedisProcess> {
    const r = new RedisProcess(await freePort());
    await r.launch();
    return r;
  }

  /** Stops the server and starts an empty one on the same port. */
  async restart(downMs = 0): Promise<void> {
    await this.stop();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  /** Runs a redis-cli command against this server; its output, trimmed. */
  cli(...args: string[]): string {
    const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), ...args], { encoding: 'utf8', timeout: 5000 });
    return (r.stdout ?? '').trim();
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p) return;
    this.proc = undefined;
    p.stdin?.end();
    const killer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(killer);
  }

  private async launch(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
    const p = spawn('sh', ['-c', WRAPPER, 'sh', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = p;
    this.exited = new Promise((r) => p.once('exit', () => r()));
    p.stdout.on('data', (d: Buffer) => (this.log += d.toString()));
    p.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    // Ready when it answers PING (bounded: 10 s).
    const until = Date.now() + 10_000;
    for (;;) {
      const ping = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.port), 'ping'], { encoding: 'utf8', timeout: 2000 });
      if (ping.stdout?.trim() === 'PONG') return;
      if (Date.now() > until) {
        await this.stop();
        throw new Error(`redis-server did not start on port ${this.port}: ${this.log.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
