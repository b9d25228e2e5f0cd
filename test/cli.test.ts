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
