/**
 * A Node process that used the WebRTC client exits by itself, promptly, once it has closed: the client
 * side leaves no timer, request or peer connection behind (webrtc-exit-child.mjs, on the built
 * @volley/client, against a server run here on 127.0.0.1). Each child has a hard SIGKILL timer; the
 * tests assert it was not needed. iceServers are [] on both sides: no STUN server is contacted.
 */

import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Server } from '@volley/server';

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const CHILD = here('./webrtc-exit-child.mjs');
/** A child still running this long after its work is done counts as lingering. */
const PROMPT_EXIT_MS = 1500;
/** The child is SIGKILLed after this long, whatever happens. */
const HARD_KILL_MS = 30_000;

interface Line {
  event: string;
  at?: number;
  [key: string]: unknown;
}

interface Run {
  lines: Line[];
  code: number | null;
  signal: NodeJS.Signals | null;
  killed: boolean;
  stderr: string;
}

/** The child runs the built client (dist/): refuse to test a stale build. */
function assertBuilt(pkg: string): void {
  const root = here(`../../${pkg}/`);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  for (const file of walk(join(root, 'src')).filter((f) => f.endsWith('.ts'))) {
    const out = join(root, 'dist', file.slice(join(root, 'src').length).replace(/\.ts$/, '.js'));
    let built = 0;
    try {
      built = statSync(out).mtimeMs;
    } catch {
      // missing
    }
    if (built < statSync(file).mtimeMs) throw new Error(`${out} is older than ${file}: run \`npx tsc -b\` first`);
  }
}

function runChild(url: string, scenario: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CHILD, JSON.stringify({ url, scenario, lifetimeMs: HARD_KILL_MS - 5000 })], {
      cwd: here('../../..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const run: Run = { lines: [], code: null, signal: null, killed: false, stderr: '' };
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (s: string) => (out += s));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      if (run.stderr.length < 20_000) run.stderr += s;
    });
    const hardKill = setTimeout(() => {
      run.killed = true;
      child.kill('SIGKILL'); // this child, by its PID
    }, HARD_KILL_MS);
    child.once('close', (code, signal) => {
      clearTimeout(hardKill);
      for (const text of out.split('\n').filter(Boolean)) {
        try {
          run.lines.push(JSON.parse(text) as Line);
        } catch {
          run.lines.push({ event: 'text', text });
        }
      }
      Object.assign(run, { code, signal });
      resolve(run);
    });
  });
}

function line(run: Run, event: string): Line {
  const found = run.lines.find((l) => l.event === event);
  if (!found) throw new Error(`no '${event}' line; stdout: ${JSON.stringify(run.lines)}; stderr: ${run.stderr || '(empty)'}`);
  return found;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const measured: string[] = [];
afterAll(() => {
  if (measured.length) console.log(`[webrtc exit] ${measured.join('; ')}`);
});

async function serve(): Promise<Server> {
  const s = new Server({ host: '127.0.0.1', port: 0, transports: ['webrtc'], webrtc: { bindAddress: '127.0.0.1', iceServers: [] } });
  servers.push(s);
  await s.listen();
  s.onAnyMessage((session, type, data) => session.send(type, data));
  return s;
}

describe('a Node process that used WebRTC exits by itself', () => {
  it(
    'after a session: connect, one message echoed, close()',
    async () => {
      assertBuilt('client');
      assertBuilt('protocol');
      const server = await serve();
      const run = await runChild(server.address().url, 'session');
      const done = line(run, 'done');
      const exit = line(run, 'exit');
      expect(run.killed, 'the hard kill timer was needed').toBe(false);
      expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
      expect(done.transport).toBe('webrtc');
      expect(done.echoed).toBe('hello');
      expect(exit.unhandled).toEqual([]);
      const lingered = exit.at! - done.at!;
      measured.push(
        `session: close() took ${(done.at! - (done.closing as number)).toFixed(0)} ms, exit ${lingered.toFixed(0)} ms after it`,
      );
      expect(lingered).toBeLessThan(PROMPT_EXIT_MS);
      // The server saw the session end (the client told it), not a timeout.
      const until = performance.now() + 5000;
      while (server.clients.length > 0 && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
      expect(server.clients).toHaveLength(0);
    },
    HARD_KILL_MS + 10_000,
  );

  it(
    'after open() attempts closed or aborted 0–100 ms in',
    async () => {
      assertBuilt('client');
      assertBuilt('protocol');
      const server = await serve();
      const run = await runChild(server.address().url, 'abandon');
      const done = line(run, 'done');
      const exit = line(run, 'exit');
      expect(run.killed, 'the hard kill timer was needed').toBe(false);
      expect({ code: run.code, signal: run.signal }, run.stderr).toEqual({ code: 0, signal: null });
      const outcomes = done.outcomes as string[];
      expect(outcomes).toHaveLength(4);
      for (const o of outcomes) expect(o).toMatch(/^(opened|webrtc .*(aborted|closed during open))$/);
      expect(exit.unhandled).toEqual([]);
      const lingered = exit.at! - done.at!;
      const short = (o: string): string => (o === 'opened' ? 'opened' : /aborted$/.test(o) ? 'aborted' : 'closed');
      measured.push(`abandon (${outcomes.map(short).join(', ')}): exit ${lingered.toFixed(0)} ms after`);
      expect(lingered).toBeLessThan(PROMPT_EXIT_MS);
    },
    HARD_KILL_MS + 10_000,
  );
});
