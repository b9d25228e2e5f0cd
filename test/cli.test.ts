/** The `volley` command as a user runs it: the built bin, real processes, real output. */

import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../packages/cli/bin/volley.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('volley CLI', () => {
  it('prints help for the command and each subcommand', () => {
    expect(run('--help').stdout).toMatch(/scenario abc/);
    expect(run('scenario', '--help').stdout).toMatch(/--json/);
    expect(run('sim', '--help').stdout).toMatch(/--reorder P/);
  });

  it('rejects bad usage with exit code 2 and a clear message', () => {
    const r = run('sim', '--loss', '2');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--loss must be a number from 0 to 1, got '2'/);
    expect(run('nope').status).toBe(2);
    expect(run('sim', '--channel', 'tcp').stderr).toMatch(/--channel must be one of/);
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

  it('sim --json reports a lossy reliable-ordered run delivered exactly once and in order', () => {
    const r = run('sim', '--loss', '0.2', '--duplicate', '0.1', '--reorder', '0.1', '--jitter', '20', '--messages', '3000', '--json');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ sent: 3000, delivered: 3000, duplicates: 0, outOfOrder: 0, lost: 0, seed: 1 });
    expect(report.retransmissions).toBeGreaterThan(0);
    expect(report.bytesOnWire).toBeGreaterThan(report.payloadBytes);
    for (const k of ['p50', 'p95', 'p99', 'max']) expect(report.latencyMs[k]).toBeGreaterThan(0);
  });
});

describe('volley serve', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`prints where it listens and stops cleanly on ${signal}`, async () => {
      const { spawn } = await import('node:child_process');
      const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--transports', 'websocket,polling'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000); // bound: never leave it running
      try {
        for (let i = 0; i < 400 && !out.includes('echo server on'); i++) await new Promise((r) => setTimeout(r, 25));
        expect(out).toMatch(/echo server on http:\/\/127\.0\.0\.1:\d+/);
        expect(out).toContain('transports: websocket, polling');
        child.kill(signal);
        expect(await exited).toBe(0);
        expect(out).toContain(`${signal}, closing`);
        expect(out).toContain('stopped');
      } finally {
        clearTimeout(kill);
      }
    });
  }
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
        execFile(process.execPath, [bin, 'ping', server.address().url, '--count', '20', '--interval', '2', '--json', ...args], { timeout: 60_000 }, (err, stdout) =>
          err ? reject(err) : resolve(JSON.parse(stdout) as Record<string, unknown>),
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
});
