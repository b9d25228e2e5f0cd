/**
 * What the in-process core benchmarks share (protocol.bench.ts for Volley, kcp-core.bench.ts for KCP): the
 * message they carry and check, the timed run with its CPU time, and the allocation measurement, so the two
 * are measured exactly alike.
 */

import { performance } from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';

export const MESSAGE_SIZE = 32;
export const LATENCY_MS = 20;
/** Messages per timed round; rounds repeat (a quarter this size) until a case has run MIN_SECONDS. */
export const MESSAGES = 200_000;
export const WARMUP_MESSAGES = 50_000;
export const MIN_SECONDS = 1;
/** Wall-clock cap of each timed run, warm-up and allocation measurement. */
export const WALL_CAP_MS = 20_000;
/** Simulated-time caps of one run: no delivery for STALL_MS, or SIM_CAP_MS in all, aborts the benchmark. */
export const STALL_MS = 30_000;
export const SIM_CAP_MS = 3_600_000;
/** Timed repetitions of each case (fresh connection each); the median is reported. */
export const REPEATS = 3;
const ALLOC_CHUNK = 20_000;
const ALLOC_SAMPLES = 5;
const ALLOC_ATTEMPTS = 15;

export interface Allocation {
  /** Median over chunks with no GC in them; null without --expose-gc or if every chunk saw a GC. */
  bytesPerMessage: number | null;
  /** Of which ArrayBuffer backing stores outside the JS heap (median). */
  arrayBufferBytesPerMessage: number | null;
  chunkMessages: number;
  chunksUsed: number;
  chunksDiscarded: number;
}

export interface Timing {
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  /** Process CPU time (user + system, process.cpuUsage) per delivered message, µs. */
  cpuMicrosPerMessage: number;
  /** True when the wall-clock cap stopped the case early. */
  capped: boolean;
}

export interface Repeated {
  /** messages/s of every repetition; the other figures are from the median one. */
  runs: number[];
}

/** Something that carries numbered messages and checks their delivery. */
export interface Flow {
  readonly delivered: number;
  /** Sends and delivers `count` more messages; false if `wallDeadline` (performance.now()) stopped it first. */
  run(count: number, wallDeadline: number): boolean;
}

/** A wall-clock budget: each measurement may run until the earlier of WALL_CAP_MS from now and the budget's end. */
export class Budget {
  private readonly end: number;
  constructor(ms: number) {
    this.end = performance.now() + ms;
  }
  capAt(): number {
    return Math.min(performance.now() + WALL_CAP_MS, this.end);
  }
}

export function fail(message: string): never {
  throw new Error(`BENCHMARK ABORTED: ${message}`);
}

/** Message #n: n as u32 little-endian, then bytes derived from n. */
export function writeMessage(buf: Uint8Array, n: number): void {
  buf[0] = n;
  buf[1] = n >>> 8;
  buf[2] = n >>> 16;
  buf[3] = n >>> 24;
  for (let i = 4; i < MESSAGE_SIZE; i++) buf[i] = (n + i) & 0xff;
}

/** Aborts unless `data` is message #expected, whole. */
export function checkMessage(data: Uint8Array, expected: number, where: string): void {
  let ok = data.length === MESSAGE_SIZE && (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0 === expected >>> 0;
  for (let i = 4; ok && i < MESSAGE_SIZE; i++) ok = data[i] === ((expected + i) & 0xff);
  if (!ok) {
    const got = data.length >= 4 ? `#${(data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0}` : 'garbage';
    fail(`${where}: expected message #${expected}, got ${got} (${data.length} bytes): not exactly-once in-order delivery`);
  }
}

/**
 * Runs `flow` in rounds until it has delivered ≥ `messages` and run ≥ MIN_SECONDS (or hit the cap).
 * The gc() first tenures the connected flow's long-lived state, as any full GC does in a long-running process;
 * on Node 20 that state costs far more GC than a never-collected fresh connection (~2× slower), so it is measured.
 * (No --max-semi-space-size: a big young generation makes those scavenges slower and the figures erratic.)
 */
export function timed(flow: Flow, messages: number, budget: Budget): Timing {
  globalThis.gc?.();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = budget.capAt();
  const first = flow.delivered;
  let capped = !flow.run(messages, deadline);
  while (!capped && performance.now() - start < MIN_SECONDS * 1000) capped = !flow.run(Math.ceil(messages / 4), deadline);
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const delivered = flow.delivered - first;
  return {
    messages: delivered,
    seconds,
    messagesPerSecond: delivered / seconds,
    cpuMicrosPerMessage: (cpu.user + cpu.system) / Math.max(1, delivered),
    capped,
  };
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

/** The repetition with the median messages/s, plus every repetition's messages/s. */
export function pickMedian<T extends Timing>(runs: T[]): T & Repeated {
  const sorted = [...runs].sort((x, y) => x.messagesPerSecond - y.messagesPerSecond);
  return { ...sorted[(sorted.length - 1) >> 1]!, runs: runs.map((r) => Math.round(r.messagesPerSecond)) };
}

export const ALLOCATION_METHOD =
  'global.gc(), then process.memoryUsage() heapUsed + arrayBuffers growth over a chunk of messages; chunks in which ' +
  'v8.GCProfiler saw any GC are discarded (chunk halves); median per message of the clean chunks';

/**
 * Heap growth over chunks of messages with no GC inside (v8.GCProfiler says which chunks saw one; those are
 * discarded and the chunk halves): JS heap (heapUsed) plus ArrayBuffer backing stores (arrayBuffers).
 */
export function allocations(flow: Flow, budget: Budget): Allocation {
  let chunk = ALLOC_CHUNK;
  const total: number[] = [];
  const external: number[] = [];
  let discarded = 0;
  const gc = globalThis.gc;
  const deadline = budget.capAt();
  for (let i = 0; gc && i < ALLOC_ATTEMPTS && total.length < ALLOC_SAMPLES && performance.now() < deadline; i++) {
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const m0 = process.memoryUsage();
    const d0 = flow.delivered;
    flow.run(chunk, deadline);
    const m1 = process.memoryUsage();
    const gcs = profiler.stop().statistics.length;
    const n = flow.delivered - d0;
    if (gcs > 0 || n === 0) {
      discarded++;
      if (chunk > 1000) chunk >>= 1;
      total.length = external.length = 0; // keep samples of one chunk size only
      continue;
    }
    const ab = m1.arrayBuffers - m0.arrayBuffers;
    total.push((m1.heapUsed - m0.heapUsed + ab) / n);
    external.push(ab / n);
  }
  const round = (x: number | null): number | null => (x === null ? null : Math.round(x));
  return {
    bytesPerMessage: round(median(total)),
    arrayBufferBytesPerMessage: round(median(external)),
    chunkMessages: chunk,
    chunksUsed: total.length,
    chunksDiscarded: discarded,
  };
}
