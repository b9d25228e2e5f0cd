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
/** Wall-clock cap of each timed case, warm-up and allocation measurement. */
const WALL_CAP_MS = 30_000;
/** Simulated-time cap of one run: a protocol that stops delivering aborts the benchmark. */
const SIM_CAP_MS = 3_600_000;
/** Baseline: bare datagrams kept in flight, like the reliable channel's default window. */
const BASELINE_WINDOW = 1024;
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

export interface ProtocolCase extends Timing {
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
  /** Times client.send() threw 'backpressure' (the top-up stops there until simulated time moves). */
  backpressureErrors: number;
  simulatedSeconds: number;
  bytesAllocatedPerMessage: number | null;
  allocation: Allocation;
}

export interface BaselineResult extends Timing {
  name: string;
  bytesOnWirePerMessage: number;
  packets: number;
  bytesAllocatedPerMessage: number | null;
  allocation: Allocation;
}

export interface ProtocolBenchResult {
  config: { messageSize: number; latencyMs: number; messages: number; warmupMessages: number; minSeconds: number };
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
  private readonly buf = new Uint8Array(MESSAGE_SIZE);

  constructor(readonly name: string, loss: number) {
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
    if ((++this.steps & 255) === 0 && performance.now() > this.wallDeadline) {
      this.capped = true;
      return false;
    }
    const now = this.pair.sim.now;
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
    if (!sim.runWhile(this.more, sim.now + SIM_CAP_MS)) {
      fail(`${this.name}: stalled at ${this.delivered} of ${this.limit} messages after ${SIM_CAP_MS} ms simulated`);
    }
    return !this.capped;
  }

  /** Two quiet simulated seconds: nothing more may arrive (a late duplicate would show here). */
  settle(): void {
    const before = this.delivered;
    this.pair.sim.runUntil(this.pair.sim.now + 2000);
    if (this.delivered !== before || this.delivered !== this.sent) {
      fail(`${this.name}: ${this.delivered - before} messages arrived after the run; ${this.sent} sent, ${this.delivered} delivered`);
    }
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

/** Runs `flow` in rounds until it has delivered ≥ `messages` and run ≥ MIN_SECONDS (or hit the cap). */
function timed(flow: Flow, messages: number): Timing {
  globalThis.gc?.();
  const start = performance.now();
  const deadline = start + WALL_CAP_MS;
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
  const deadline = performance.now() + WALL_CAP_MS;
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
  return { client: flow.pair.client.stats(), server: flow.pair.server.stats(), simNow: flow.pair.sim.now, backpressure: flow.backpressureErrors };
}

export function runProtocolBench(messages = MESSAGES, warmupMessages = WARMUP_MESSAGES): ProtocolBenchResult {
  const specs = [
    { name: 'reliable-ordered 32B, 0% loss', loss: 0 },
    { name: 'reliable-ordered 32B, 10% loss', loss: 0.1 },
  ];
  // Warm-up: every code path JIT-compiled before anything is timed.
  new BaselineFlow().run(warmupMessages * 4, performance.now() + WALL_CAP_MS);
  for (const s of specs) new ProtocolFlow(`warm-up ${s.name}`, s.loss).run(warmupMessages, performance.now() + WALL_CAP_MS);

  const base = new BaselineFlow();
  const baseTiming = timed(base, messages * 5);
  const baseAlloc = allocations(base);
  const baseline: BaselineResult = {
    name: 'baseline: bare 32B datagrams on the LinkSimulator, 0% loss',
    ...baseTiming,
    bytesOnWirePerMessage: MESSAGE_SIZE,
    packets: base.link.stats()['a-to-b'].sent,
    bytesAllocatedPerMessage: baseAlloc.bytesPerMessage,
    allocation: baseAlloc,
  };

  const cases = specs.map((s): ProtocolCase => {
    const flow = new ProtocolFlow(s.name, s.loss);
    const a = snapshot(flow);
    const t = timed(flow, messages);
    const b = snapshot(flow);
    const alloc = allocations(flow);
    flow.settle();
    const up = b.client.packetsSent - a.client.packetsSent;
    const down = b.server.packetsSent - a.server.packetsSent;
    const bytes = b.client.bytesSent - a.client.bytesSent + b.server.bytesSent - a.server.bytesSent;
    return {
      name: s.name,
      loss: s.loss,
      ...t,
      ratioToBaseline: t.messagesPerSecond / baseline.messagesPerSecond,
      bytesOnWirePerMessage: bytes / t.messages,
      packets: up + down,
      packetsClientToServer: up,
      packetsServerToClient: down,
      retransmissions: b.client.retransmissions - a.client.retransmissions,
      packetsLost: b.client.packetsLost - a.client.packetsLost,
      spuriousLosses: b.client.spuriousLosses - a.client.spuriousLosses,
      backpressureErrors: b.backpressure - a.backpressure,
      simulatedSeconds: (b.simNow - a.simNow) / 1000,
      bytesAllocatedPerMessage: alloc.bytesPerMessage,
      allocation: alloc,
    };
  });
  return {
    config: { messageSize: MESSAGE_SIZE, latencyMs: LATENCY_MS, messages, warmupMessages, minSeconds: MIN_SECONDS },
    allocationMethod:
      'global.gc(), then process.memoryUsage() heapUsed + arrayBuffers growth over a chunk of messages; chunks in which ' +
      'v8.GCProfiler saw any GC are discarded (chunk halves); median per message of the clean chunks',
    baseline,
    cases,
  };
}
