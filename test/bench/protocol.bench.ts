/**
 * Protocol benchmark: wall-clock throughput and heap allocations of 32-byte reliable-ordered messages,
 * client → server, through a ConnectionPair over the in-memory LinkSimulator (20 ms latency each way), at
 * 0 % and 10 % loss; and, as the floor, the same LinkSimulator carrying each message as a bare datagram.
 * Every delivery is checked (number and contents: exactly once, in order); any fault aborts the run.
 * Figures only: nothing here asserts on time.
 */

import { performance } from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';
import { ConnectionPair, LinkSimulator, SendError, type ChannelOptions, type ConnectionStats } from '@volley/protocol';

const MESSAGE_SIZE = 32;
const LATENCY_MS = 20;
/** Messages per timed round; rounds repeat (a quarter this size) until a case has run MIN_SECONDS. */
const MESSAGES = 200_000;
const WARMUP_MESSAGES = 50_000;
const MIN_SECONDS = 1;
/** Wall-clock caps: of each timed run, warm-up and allocation measurement, and of the whole benchmark. */
const WALL_CAP_MS = 20_000;
const BUDGET_MS = 90_000;
let budgetEnd = Infinity;
const capAt = (): number => Math.min(performance.now() + WALL_CAP_MS, budgetEnd);
/** Simulated-time caps of one run: no delivery for STALL_MS, or SIM_CAP_MS in all, aborts the benchmark. */
const STALL_MS = 30_000;
const SIM_CAP_MS = 3_600_000;
/** Baseline: bare datagrams kept in flight, like the reliable channel's default window. */
const BASELINE_WINDOW = 1024;
/** The baseline is ~10× faster: more messages per round keep its rounds as long. */
const BASELINE_FACTOR = 5;
const BASELINE_NAME = 'baseline: bare 32B datagrams on the LinkSimulator, 0% loss';
/** Timed repetitions of each case (fresh connection each); the median is reported. */
const REPEATS = 3;
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
  /** True when the wall-clock cap stopped the case early. */
  capped: boolean;
}

export interface Repeated {
  /** messages/s of every repetition; the other figures are from the median one. */
  runs: number[];
}

export interface ProtocolCase extends Timing, Repeated {
  name: string;
  loss: number;
  ratioToBaseline: number;
  /** Datagram payload bytes, both directions (no UDP/IP headers), per delivered message. */
  bytesOnWirePerMessage: number;
  packets: number;
  packetsClientToServer: number;
  packetsServerToClient: number;
  retransmissions: number;
  packetsLost: number;
  spuriousLosses: number;
  /** Retransmitted messages the server already had (it drops them): retransmissions that were not needed. */
  duplicatesAtServer: number;
  /** Times client.send() threw 'backpressure' (the top-up stops there until simulated time moves). */
  backpressureErrors: number;
  simulatedSeconds: number;
  bytesAllocatedPerMessage: number | null;
  allocation: Allocation;
}

export interface BaselineResult extends Timing, Repeated {
  name: string;
  bytesOnWirePerMessage: number;
  packets: number;
  bytesAllocatedPerMessage: number | null;
  allocation: Allocation;
}

export interface ProtocolBenchResult {
  config: { messageSize: number; latencyMs: number; messages: number; warmupMessages: number; minSeconds: number; repeats: number };
  method: string;
  allocationMethod: string;
  baseline: BaselineResult;
  cases: ProtocolCase[];
}

/** Something that carries numbered messages and checks their delivery. */
interface Flow {
  readonly delivered: number;
  /** Sends and delivers `count` more messages; false if `wallDeadline` (performance.now()) stopped it first. */
  run(count: number, wallDeadline: number): boolean;
}

function fail(message: string): never {
  throw new Error(`BENCHMARK ABORTED: ${message}`);
}

function writeMessage(buf: Uint8Array, n: number): void {
  buf[0] = n;
  buf[1] = n >>> 8;
  buf[2] = n >>> 16;
  buf[3] = n >>> 24;
  for (let i = 4; i < MESSAGE_SIZE; i++) buf[i] = (n + i) & 0xff;
}

function checkMessage(data: Uint8Array, expected: number, where: string): void {
  let ok = data.length === MESSAGE_SIZE && (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0 === expected >>> 0;
  for (let i = 4; ok && i < MESSAGE_SIZE; i++) ok = data[i] === ((expected + i) & 0xff);
  if (!ok) {
    const got = data.length >= 4 ? `#${(data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0}` : 'garbage';
    fail(`${where}: expected message #${expected}, got ${got} (${data.length} bytes): not exactly-once in-order delivery`);
  }
}

class ProtocolFlow implements Flow {
  readonly pair: ConnectionPair;
  delivered = 0;
  sent = 0;
  backpressureErrors = 0;
  private limit = 0;
  private lastFill = Number.NaN;
  private wallDeadline = Infinity;
  private capped = false;
  private steps = 0;
  private progress = 0;
  private progressAt = 0;
  private readonly buf = new Uint8Array(MESSAGE_SIZE);

  constructor(
    readonly name: string,
    loss: number,
  ) {
    const channels: ChannelOptions[] = [{ kind: 'reliable-ordered' }];
    this.pair = new ConnectionPair({
      server: { channels },
      client: { channels },
      link: { seed: 1, conditions: { loss, latency: LATENCY_MS } },
      onServerEvent: (e) => {
        if (e.type === 'message') {
          if (e.channel !== 0) fail(`${name}: message on channel ${e.channel}`);
          checkMessage(e.data, this.delivered, name);
          if (++this.delivered > this.sent) fail(`${name}: delivered more messages than were sent`);
        } else if (e.type === 'disconnected') fail(`${name}: server disconnected (${e.text || e.reason})`);
      },
      onClientEvent: (e) => {
        if (e.type === 'disconnected') fail(`${name}: client disconnected (${e.text || e.reason})`);
      },
    });
    if (!this.pair.connect()) fail(`${name}: handshake did not complete`);
  }

  /** Checked by the simulation before every step: tops the client's queue up once per simulated instant. */
  private readonly more = (): boolean => {
    if (this.delivered >= this.limit) return false;
    if ((++this.steps & 15) === 0 && performance.now() > this.wallDeadline) {
      this.capped = true;
      return false;
    }
    const now = this.pair.sim.now;
    if (this.delivered !== this.progress) {
      this.progress = this.delivered;
      this.progressAt = now;
    } else if (now - this.progressAt > STALL_MS) {
      fail(`${this.name}: stalled, nothing delivered for ${STALL_MS} ms simulated (next expected #${this.delivered})`);
    }
    if (now !== this.lastFill) {
      this.lastFill = now;
      this.fill(now);
    }
    return true;
  };

  private fill(now: number): void {
    const client = this.pair.client;
    while (this.sent < this.limit) {
      writeMessage(this.buf, this.sent);
      try {
        client.send(0, this.buf, now);
      } catch (e) {
        if (e instanceof SendError && e.code === 'backpressure') {
          this.backpressureErrors++;
          return;
        }
        throw e;
      }
      this.sent++;
    }
  }

  run(count: number, wallDeadline: number): boolean {
    this.limit = this.delivered + count;
    this.wallDeadline = wallDeadline;
    this.capped = false;
    this.lastFill = Number.NaN;
    const sim = this.pair.sim;
    this.progressAt = sim.now;
    if (!sim.runWhile(this.more, sim.now + SIM_CAP_MS)) {
      fail(`${this.name}: stalled at ${this.delivered} of ${this.limit} messages after ${SIM_CAP_MS} ms simulated`);
    }
    return !this.capped;
  }

  /** Two quiet simulated seconds: what was sent must all have arrived, once (a late duplicate fails in checkMessage). */
  settle(): void {
    this.pair.sim.runUntil(this.pair.sim.now + 2000);
    if (this.delivered !== this.sent) fail(`${this.name}: ${this.sent} messages sent, ${this.delivered} delivered`);
  }
}

class BaselineFlow implements Flow {
  readonly link = new LinkSimulator({ seed: 1, conditions: { latency: LATENCY_MS } });
  delivered = 0;
  private sent = 0;
  private now = 0;
  private readonly buf = new Uint8Array(MESSAGE_SIZE);

  run(count: number, wallDeadline: number): boolean {
    const limit = this.delivered + count;
    for (let round = 1; this.delivered < limit; round++) {
      while (this.sent < limit && this.link.inFlight < BASELINE_WINDOW) {
        writeMessage(this.buf, this.sent++);
        this.link.send('a-to-b', this.buf, this.now);
      }
      this.now = this.link.nextDeliveryTime();
      if (this.now === Infinity) fail('baseline: nothing in flight');
      for (const { datagram } of this.link.deliver(this.now)) checkMessage(datagram, this.delivered++, 'baseline');
      if ((round & 15) === 0 && performance.now() > wallDeadline) return false;
    }
    return true;
  }
}

/**
 * Runs `flow` in rounds until it has delivered ≥ `messages` and run ≥ MIN_SECONDS (or hit the cap).
 * The gc() first tenures the connected flow's long-lived state, as any full GC does in a long-running process;
 * on Node 20 that state costs far more GC than a never-collected fresh connection (~2× slower), so it is measured.
 * (No --max-semi-space-size: a big young generation makes those scavenges slower and the figures erratic.)
 */
function timed(flow: Flow, messages: number): Timing {
  globalThis.gc?.();
  const start = performance.now();
  const deadline = capAt();
  const first = flow.delivered;
  let capped = !flow.run(messages, deadline);
  while (!capped && performance.now() - start < MIN_SECONDS * 1000) capped = !flow.run(Math.ceil(messages / 4), deadline);
  const seconds = (performance.now() - start) / 1000;
  const delivered = flow.delivered - first;
  return { messages: delivered, seconds, messagesPerSecond: delivered / seconds, capped };
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1]!;
}

/**
 * Heap growth over chunks of messages with no GC inside (v8.GCProfiler says which chunks saw one; those are
 * discarded and the chunk halves): JS heap (heapUsed) plus ArrayBuffer backing stores (arrayBuffers).
 */
function allocations(flow: Flow): Allocation {
  let chunk = ALLOC_CHUNK;
  const total: number[] = [];
  const external: number[] = [];
  let discarded = 0;
  const gc = globalThis.gc;
  const deadline = capAt();
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

function snapshot(flow: ProtocolFlow): { client: ConnectionStats; server: ConnectionStats; simNow: number; backpressure: number } {
  return {
    client: flow.pair.client.stats(),
    server: flow.pair.server.stats(),
    simNow: flow.pair.sim.now,
    backpressure: flow.backpressureErrors,
  };
}

interface Spec {
  name: string;
  loss: number;
}
type CaseRun = Omit<ProtocolCase, 'ratioToBaseline' | 'bytesAllocatedPerMessage' | 'allocation' | 'runs'>;
type BaselineRun = Omit<BaselineResult, 'bytesAllocatedPerMessage' | 'allocation' | 'runs'>;

function protocolRun(s: Spec, messages: number): CaseRun {
  const flow = new ProtocolFlow(s.name, s.loss);
  const a = snapshot(flow);
  const t = timed(flow, messages);
  const b = snapshot(flow);
  flow.settle();
  const up = b.client.packetsSent - a.client.packetsSent;
  const down = b.server.packetsSent - a.server.packetsSent;
  const bytes = b.client.bytesSent - a.client.bytesSent + b.server.bytesSent - a.server.bytesSent;
  return {
    name: s.name,
    loss: s.loss,
    ...t,
    bytesOnWirePerMessage: bytes / t.messages,
    packets: up + down,
    packetsClientToServer: up,
    packetsServerToClient: down,
    retransmissions: b.client.retransmissions - a.client.retransmissions,
    packetsLost: b.client.packetsLost - a.client.packetsLost,
    spuriousLosses: b.client.spuriousLosses - a.client.spuriousLosses,
    duplicatesAtServer: b.server.duplicateMessages - a.server.duplicateMessages,
    backpressureErrors: b.backpressure - a.backpressure,
    simulatedSeconds: (b.simNow - a.simNow) / 1000,
  };
}

function baselineRun(messages: number): BaselineRun {
  const flow = new BaselineFlow();
  const t = timed(flow, messages);
  return { name: BASELINE_NAME, ...t, bytesOnWirePerMessage: MESSAGE_SIZE, packets: flow.link.stats()['a-to-b'].sent };
}

/** The repetition with the median messages/s, plus every repetition's messages/s. */
function pickMedian<T extends Timing>(runs: T[]): T & { runs: number[] } {
  const sorted = [...runs].sort((x, y) => x.messagesPerSecond - y.messagesPerSecond);
  return { ...sorted[(sorted.length - 1) >> 1]!, runs: runs.map((r) => Math.round(r.messagesPerSecond)) };
}

export function runProtocolBench(messages = MESSAGES, warmupMessages = WARMUP_MESSAGES, repeats = REPEATS): ProtocolBenchResult {
  const specs: Spec[] = [
    { name: 'reliable-ordered 32B, 0% loss', loss: 0 },
    { name: 'reliable-ordered 32B, 10% loss', loss: 0.1 },
  ];
  budgetEnd = performance.now() + BUDGET_MS;
  // Warm-up: every code path JIT-compiled before anything is timed.
  new BaselineFlow().run(warmupMessages * 4, capAt());
  for (const s of specs) new ProtocolFlow(`warm-up ${s.name}`, s.loss).run(warmupMessages, capAt());

  // Repetitions interleaved, so a slow spell of the machine does not land on one case only.
  const baseRuns: BaselineRun[] = [];
  const caseRuns: CaseRun[][] = specs.map(() => []);
  for (let r = 0; r < repeats; r++) {
    baseRuns.push(baselineRun(messages * BASELINE_FACTOR));
    specs.forEach((s, i) => caseRuns[i]!.push(protocolRun(s, messages)));
  }

  const baseAlloc = allocations(new BaselineFlow());
  const base = pickMedian(baseRuns);
  const baseline: BaselineResult = { ...base, bytesAllocatedPerMessage: baseAlloc.bytesPerMessage, allocation: baseAlloc };
  const cases = specs.map((s, i): ProtocolCase => {
    const flow = new ProtocolFlow(`allocations ${s.name}`, s.loss);
    const allocation = allocations(flow);
    flow.settle();
    const run = pickMedian(caseRuns[i]!);
    return {
      ...run,
      ratioToBaseline: run.messagesPerSecond / baseline.messagesPerSecond,
      bytesAllocatedPerMessage: allocation.bytesPerMessage,
      allocation,
    };
  });
  return {
    config: { messageSize: MESSAGE_SIZE, latencyMs: LATENCY_MS, messages, warmupMessages, minSeconds: MIN_SECONDS, repeats },
    method:
      'each repetition: a fresh pair (or link), connected, then global.gc() so its long-lived state is tenured as in a ' +
      'long-running process, then timed; figures are from the repetition with the median messages/s',
    allocationMethod:
      'global.gc(), then process.memoryUsage() heapUsed + arrayBuffers growth over a chunk of messages; chunks in which ' +
      'v8.GCProfiler saw any GC are discarded (chunk halves); median per message of the clean chunks',
    baseline,
    cases,
  };
}
