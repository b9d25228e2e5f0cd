/**
 * Network benchmark over real sockets: Volley against bare TCP, bare WebSocket and (when installed) KCP,
 * side by side in one run, through an emulated path in user space (a relay process: delay, rate, tail-drop
 * queue) with kernel loss from nftables, all on loopback inside a fresh network namespace that has nothing
 * else. Figures and ratios only: nothing is asserted.
 *
 *  1a. a 5 MB upload through 2 Mbit/s, a 28.9 KB tail-drop queue and 20 ms one way: Volley over raw UDP and
 *      bare TCP, each alone: goodput, IP bytes per payload byte, drops at the bottleneck;
 *  1b. the same with a 60 Hz × 64 B stream on the same connection: the stream's one-way latency;
 *  1c. both uploads through the bottleneck at once: each one's Mbit/s and Volley's share;
 *  2.  60 × 64 B reliable-ordered messages a second for 20 s, 30 ms one way, 0/10/20 % kernel loss each way:
 *      one-way latency and IP bytes per message, Volley over UDP (with and without redundancy) and over
 *      WebSocket, bare ws, KCP.
 *
 * VOLLEY_NET_BENCH_CASES (e.g. `1b,2`) runs only the cases named; the others are noted as not asked for.
 *
 * runNetBench() from a process outside the namespace (e.g. test/bench/run.ts) runs main.ts inside one and
 * returns its JSON; inside (VOLLEY_BENCH_ISOLATED=1) it runs the cases in this process. `node --import tsx
 * test/bench/net/main.ts` does the same from the command line.
 */

import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { lossLevel } from './cases/loss-latency.js';
import { shareCase } from './cases/share.js';
import { streamCase } from './cases/stream.js';
import { uploadCase } from './cases/upload.js';
import { ISOLATED, prepareHost, runIsolated, tuneLoopback } from './isolation.js';
import { KCP_DIR, loadKcp } from './kcp-peer.js';
import { removeTable, tableExists, TABLE } from './kernel-loss.js';
import {
  BOTTLENECK,
  BUDGET_MS,
  DRAIN_MS,
  LOSS_PATH,
  LOSS_PERCENTS,
  LOSS_STREAM_MS,
  SHARE_MS,
  SHARE_WARMUP_MS,
  STREAM_HZ,
  UPLOAD_BYTES,
} from './net-config.js';
import type { NetBenchResult } from './net-result.js';
import { PROBE_SIZE } from './probe.js';
import { UPLOAD_MESSAGE_SIZE } from './volley-upload.js';
import { message } from './waits.js';

export type { NetBenchResult } from './net-result.js';
export { netBenchTable } from './net-table.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
/** Set for main.ts when runNetBench() runs it: print only the JSON (the caller prints the table). */
export const JSON_ONLY_ENV = 'VOLLEY_NET_BENCH_JSON_ONLY';

export const METHOD: Record<string, string> = {
  isolation:
    'a fresh network namespace with only loopback (unshare -n; lo up, MTU 1500, gso_max_segs 1 so TCP goes in real 1500-byte segments); every socket on 127.0.0.1; the namespace and all it holds go away with the run',
  clock:
    'sender and receiver of every flow are in the benchmark process and read one clock (performance.now()); the relay runs in a process of its own so that its timers are not held up by the Volley stack',
  path: 'user-space relay per flow (relay-process.ts): each direction is a link with a tail-drop FIFO measured in IP bytes (UDP datagram + 28 B, TCP segment + 52 B), drained at the link rate, then a fixed delay; the relay measures its own timer lateness (relayLateness: about 0.1 ms at p50, 1 ms at p99, up to 10 ms at worst in the runs so far)',
  udp: 'UDP datagrams are forwarded one by one through the link: queued, serialized at the rate, delayed, tail-dropped when the queue is full, exactly as a router would treat them; Volley and KCP get real loss, delay and queueing feedback',
  tcp: 'TCP goes through a byte relay (no TUN device): the sender TCP connects to the relay, which cuts what it reads into ≤1448-byte segments, puts them through the same link and writes them to the target on a second connection. A byte stream cannot lose a segment, so at a full queue the relay stops reading (back-pressure) until a packet has left: the sender never sees a loss at the bottleneck, never backs off, and refills every byte of room the instant it frees. Its congestion control and loss recovery run on the loopback hop to the relay (RTT of microseconds), not on the emulated path',
  'tcp, what follows':
    "1a: bare TCP's goodput is the link's best (its wire ratio has no retransmissions, which a real TCP through this queue would add); 1b: its stream waits behind everything written before it (senderBacklogBytes): Node's 16 KiB, the queue's 28.9 KB, and the kernel's send and receive buffers on the loopback hop, which autotune to most of a megabyte there, several times what a sender on a real 40 ms path would hold; so its latency shows head-of-line blocking, and its size is exaggerated (latency ≈ backlog ÷ 250 kB/s); 1c: the TCP flow is a flow that never yields, so Volley's share is a lower bound of what it would get next to a loss-based TCP (CUBIC), and a share above 50 % would mean Volley takes more than a fair share even of that; 2: a lost TCP segment is recovered on the microsecond hop and then delayed once, so each recovery costs about one round trip (60 ms) less than on a real 30 ms path: bare ws and Volley over WebSocket are shown better than they would be",
  loss: 'nftables table inet volleybench, chain on the prerouting hook (priority 0): for each relay client-facing port, a counter rule then `numgen random mod 100 < N drop` on packets to it (client → relay) and from it (relay → client): N % each way, once per direction; prerouting so TCP learns of a loss only by missing ACKs, as on a network',
  bytes:
    'IP packets and bytes are the kernel counters of those rules (headers included; every packet sent is counted, dropped ones too). For TCP they are the loopback hop to the relay: its ACKs and retransmissions follow that hop, not the emulated path. Case 1 uses the same counters with no loss',
  volley:
    'a real Server (@volley/server) and the Node client (@volley/client) in this process; over UDP the client sends to the relay (its UDP transport is given the relay port) and fetches its token directly; over WebSocket everything goes through the TCP relay; rate limits raised; upload: 1000-byte raw messages on reliable-ordered, refilled every ms while < 512 KiB are unacknowledged; stream: unreliable channel of priority 10',
  kcp: 'node-kcp (reference ikcp) loaded by absolute path from outside the repository, fast mode nodelay(1, 10, 2, 1), windows 128, message mode, update() at check(), flush after each send',
};

const CASES_ENV_VALUE = process.env['VOLLEY_NET_BENCH_CASES'] ?? '';
const ASKED = CASES_ENV_VALUE.split(',')
  .map((c) => c.trim())
  .filter((c) => c !== '');

/** Whether the case whose name starts with its number (`1a upload`, `2 loss…`) is to run. */
export function asked(name: string): boolean {
  const id = name.split(' ')[0]!;
  return ASKED.length === 0 || ASKED.some((a) => id === a || id.startsWith(a));
}

function progress(text: string): void {
  console.error(`net bench: ${text}`);
}

/** Runs one case unless the budget is spent; a case that throws becomes a note. */
async function step<T>(name: string, deadline: number, notes: string[], run: () => Promise<T>): Promise<T | null> {
  if (!asked(name)) {
    notes.push(`${name}: not asked for (VOLLEY_NET_BENCH_CASES=${CASES_ENV_VALUE})`);
    return null;
  }
  if (performance.now() > deadline) {
    notes.push(`${name}: skipped, the ${BUDGET_MS / 1000} s budget ran out`);
    return null;
  }
  const t0 = performance.now();
  progress(`${name}…`);
  try {
    return await run();
  } catch (e) {
    notes.push(`${name}: failed: ${message(e)}`);
    return null;
  } finally {
    progress(`${name} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}

/** The cases, in this process, which must be in the benchmark's namespace. */
async function runHere(): Promise<NetBenchResult> {
  const start = performance.now();
  const deadline = start + BUDGET_MS;
  const notes: string[] = [];
  await tuneLoopback();
  const kcp = loadKcp();
  if ('error' in kcp) notes.push(`KCP rows skipped: ${kcp.error}`);
  const upload = await step('1a upload', deadline, notes, uploadCase);
  const stream = await step('1b stream during upload', deadline, notes, streamCase);
  const share = await step('1c shared bottleneck', deadline, notes, shareCase);
  const loss = [];
  for (const pct of LOSS_PERCENTS) {
    const level = await step(`2 loss latency at ${pct} %`, deadline, notes, () => lossLevel(pct));
    if (level) loss.push(level);
  }
  let tableLeftBehind = await tableExists();
  if (tableLeftBehind) {
    notes.push(`the nftables table inet ${TABLE} was still there at the end (removed now)`);
    await removeTable().catch(() => {});
    tableLeftBehind = await tableExists();
  }
  return {
    config: {
      bottleneck: BOTTLENECK,
      uploadBytes: UPLOAD_BYTES,
      uploadMessageBytes: UPLOAD_MESSAGE_SIZE,
      streamHz: STREAM_HZ,
      probeBytes: PROBE_SIZE,
      shareSeconds: SHARE_MS / 1000,
      shareWarmupSeconds: SHARE_WARMUP_MS / 1000,
      lossPath: LOSS_PATH,
      lossPercents: LOSS_PERCENTS,
      lossStreamSeconds: LOSS_STREAM_MS / 1000,
      drainSeconds: DRAIN_MS / 1000,
      kcp: 'error' in kcp ? `unavailable (${KCP_DIR})` : `node-kcp from ${KCP_DIR}`,
    },
    method: METHOD,
    seconds: Math.round((performance.now() - start) / 100) / 10,
    upload,
    stream,
    share,
    loss,
    notes,
    tableLeftBehind,
  };
}

export async function runNetBench(): Promise<NetBenchResult> {
  if (ISOLATED) return runHere();
  await prepareHost();
  const { code, stdout } = await runIsolated(MAIN, { [JSON_ONLY_ENV]: '1' }, true);
  const last = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as NetBenchResult;
  } catch {
    throw new Error(`the isolated network benchmark exited ${code} without a result`);
  }
}
