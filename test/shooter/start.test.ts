/**
 * `npm start` (examples/shooter/start.ts) as a newcomer runs it: it builds the page, says so, prints the URL,
 * and there the page is served and the arena is live with its two bots. The process is stopped by its PID
 * (SIGTERM, then SIGKILL if it lingers) whatever happens.
 */

import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { connect } from '@volley/client';
import { Arena } from '../../examples/shooter/game/state.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm start: the shooter', () => {
  it('builds the page, prints the URL, serves the page and a live arena with bots', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/shooter/start.ts'], {
      cwd: root,
      env: { ...process.env, PORT: '0', NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const hardKill = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL within 60 s:\n${out}\n${err}`)), 60_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /open (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
        child.once('exit', (code) => reject(new Error(`exited (${code}) before printing the URL:\n${out}\n${err}`)));
      });
      expect(out).toMatch(/building the shooter page… .*done \(\d+ modules/s);
      const page = await fetch(url, { signal: AbortSignal.timeout(5000) });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Volley shooter</title>');
      const client = await connect(url, { transports: ['websocket'] });
      try {
        const room = await client.joinOrCreate('arena', {}, Arena);
        const names = [...room.state.players.values()].map((p) => p.name).sort();
        expect(names).toEqual(['A (bot)', 'B (bot)', 'C']);
      } finally {
        await client.close();
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
      clearTimeout(hardKill);
    }
  }, 120_000);

  it('says clearly when its port is taken, and exits', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/shooter/start.ts'], {
        cwd: root,
        env: { ...process.env, PORT: String(port), NODE_OPTIONS: '' },
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`port ${port} is in use on 127.0.0.1: stop what uses it, or run PORT=8090 npm start`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  }, 120_000);
});
