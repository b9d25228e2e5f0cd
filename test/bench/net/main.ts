/**
 * The network benchmark on its own: `node --import tsx test/bench/net/main.ts` (from the repo root, as root).
 * Outside the benchmark's namespace it installs nftables if `nft` is missing, then re-executes itself in a
 * fresh loopback-only one (isolation.ts). Inside, it runs every case (net.bench.ts), prints the table to
 * stderr and the JSON result to stdout (only the JSON when VOLLEY_NET_BENCH_JSON_ONLY=1, as runNetBench()
 * asks), and exits 1 if a case failed.
 */

import { fileURLToPath } from 'node:url';
import { ISOLATED, prepareHost, runIsolated } from './isolation.js';
import { asked, JSON_ONLY_ENV, netBenchTable, runNetBench, type NetBenchResult } from './net.bench.js';

/** Something other than a skipped optional peer went wrong. */
function failed(r: NetBenchResult): boolean {
  const runs = [r.upload?.volley, r.upload?.tcp, r.stream?.volley, r.stream?.tcp];
  return (
    (r.upload === null && asked('1a')) ||
    (r.stream === null && asked('1b')) ||
    (r.share === null && asked('1c')) ||
    r.share?.error !== undefined ||
    runs.some((x) => x?.error !== undefined) ||
    (r.loss.length === 0 && asked('2')) ||
    r.loss.some((l) => l.error !== undefined || l.peers.some((p) => p.error !== undefined && !p.error.startsWith('skipped'))) ||
    r.tableLeftBehind
  );
}

if (!ISOLATED) {
  await prepareHost();
  const { code } = await runIsolated(fileURLToPath(import.meta.url), {}, false);
  process.exitCode = code;
} else {
  const result = await runNetBench();
  if (process.env[JSON_ONLY_ENV] !== '1') console.error(`\n${netBenchTable(result)}\n`);
  console.log(JSON.stringify(result));
  if (failed(result)) process.exitCode = 1;
  // Everything the run opened is closed; if some handle still holds the process, say so rather than hang.
  setTimeout(() => {
    console.error(
      `net bench: the process did not exit by itself 3 s after the run; still open: ${process.getActiveResourcesInfo().join(', ')}`,
    );
    process.exit(process.exitCode ?? 0);
  }, 3000).unref();
}
