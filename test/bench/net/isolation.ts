/**
 * The network benchmark only ever runs in a fresh network namespace that has nothing but loopback: from
 * outside one, it re-executes itself there with
 *   unshare -n sh -c 'ip link set lo up && ip link set lo mtu 1500 && VOLLEY_BENCH_ISOLATED=1 exec node --import tsx <file>'
 * (root only). Inside, before it touches nftables or the loopback device, it checks that it really is in
 * such a namespace (VOLLEY_BENCH_ISOLATED=1 and no interface but lo), so the host's firewall and interfaces
 * are never changed. The namespace goes away with its last process, and everything set in it with it.
 */

import { execFile, spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ISOLATED = process.env['VOLLEY_BENCH_ISOLATED'] === '1';

/** The repository's root (where `node --import tsx` finds tsx). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Throws unless this process is in the benchmark's loopback-only namespace. */
export function assertIsolated(): void {
  if (!ISOLATED) throw new Error('refusing to change the network: not in the benchmark namespace (VOLLEY_BENCH_ISOLATED is not 1)');
  const others = Object.keys(networkInterfaces()).filter((name) => name !== 'lo');
  if (others.length > 0) throw new Error(`refusing to change the network: this namespace has interfaces besides lo (${others.join(', ')})`);
}

function run(cmd: string, args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
      resolve({ code, stdout, stderr: stderr || (error && code === 127 ? error.message : '') });
    });
  });
}

/**
 * Outside the namespace (it has no network), before re-executing: installs nftables when `nft` is missing
 * (`apt-get install -y nftables`), and checks that we can make a namespace at all.
 */
export async function prepareHost(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the network benchmark needs root (unshare -n, nftables)');
  if ((await run('nft', ['--version'], 5000)).code !== 0) {
    console.error('net bench: `nft` is missing, installing nftables (apt-get install -y nftables)');
    const r = await run('apt-get', ['install', '-y', 'nftables'], 300_000);
    if (r.code !== 0) throw new Error(`apt-get install -y nftables failed (${r.code}): ${r.stderr.trim().slice(-500)}`);
  }
}

/**
 * Runs `file` (a .ts entry) with `node --import tsx` in a fresh loopback-only namespace, from the repo root,
 * with `env` added; resolves with its exit code and, when `captureStdout`, its standard output (stderr is
 * passed through either way).
 */
export function runIsolated(file: string, env: Record<string, string>, captureStdout: boolean): Promise<{ code: number; stdout: string }> {
  const quoted = `'${file.replaceAll("'", "'\\''")}'`;
  const script = `ip link set lo up && ip link set lo mtu 1500 && VOLLEY_BENCH_ISOLATED=1 exec node --import tsx ${quoted}`;
  const child = spawn('unshare', ['-n', 'sh', '-c', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', captureStdout ? 'pipe' : 'inherit', 'inherit'],
  });
  let stdout = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (stdout += d));
  const stop = (): void => void child.kill('SIGTERM');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve({ code: code ?? (signal ? 128 : 1), stdout });
    });
  });
}

/**
 * Inside the namespace: makes loopback carry TCP as a real link would, one MTU-sized segment per packet
 * (`gso_max_segs 1`; otherwise the kernel hands 64 KB GSO packets through lo and nftables counts one packet,
 * and one header, per 45 segments). Checks the MTU is 1500 as the re-exec set it.
 */
export async function tuneLoopback(): Promise<void> {
  assertIsolated();
  const r = await run('ip', ['link', 'set', 'lo', 'gso_max_segs', '1'], 5000);
  if (r.code !== 0) throw new Error(`ip link set lo gso_max_segs 1 failed: ${r.stderr.trim()}`);
  const show = await run('ip', ['link', 'show', 'lo'], 5000);
  if (!/ mtu 1500 /.test(show.stdout)) throw new Error(`lo's MTU is not 1500: ${show.stdout.trim()}`);
}
