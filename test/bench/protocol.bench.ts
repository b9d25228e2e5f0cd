/**
 * Protocol benchmark: wall-clock throughput and heap allocations of 32-byte reliable-ordered messages,
 * client → server, through a ConnectionPair over the in-memory LinkSimulator (20 ms latency each way), at
 * 0 % and 10 % loss; and, as the floor, the same LinkSimulator carrying each message as a bare datagram.
 * Every delivery is checked (number and contents: exactly once, in order); any fault aborts the run.
 * Figures only: nothing here asserts on time.
 */

import { performance } from 'node:perf_hooks';
import {
  ALLOCATION_METHOD,
  allocations,
  Budget,
  checkMessage,
  fail,
  LATENCY_MS,
  MESSAGE_SIZE,
  MESSAGES,
  MIN_SECONDS,
  pickMedian,
  REPEATS,
  SIM_CAP_MS,
  STALL_MS,
  timed,
  WARMUP_MESSAGES,
  writeMessage,
  type Allocation,
  type Flow,
  type Repeated,
  type Timing,
} from './core-harness.js';
import { ConnectionPair, LinkSimulator, type ChannelOptions, type ConnectionStats } from '@volley/protocol';

/** Wall-clock cap of the whole benchmark. */
const BUDGET_MS = 90_000;
/** Baseline: bare datagrams kept in flight, like the reliable channel's default window. */
const BASELINE_WINDOW = 1024;
/** The baseline is ~10× faster: more messages per round keep its rounds as long. */
const BASELINE_FACTOR = 5;
const BASELINE_NAME = 'baseline: bare 32B datagrams on the LinkSimulator, 0% loss';

export type { Allocation, Repeated, Timing } from './core-harness.js';

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
  /** Times client.trySend() refused for back-pressure (the top-up stops there until simulated time moves). */
  backpressureRefusals: number;
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

/** The wall-clock budget of the run in progress. */
let budget = new Budget(BUDGET_MS);

class ProtocolFlow implements Flow {
  readonly pair: ConnectionPair;
  delivered = 0;
  sent = 0;
  backpressureRefusals = 0;
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
      if (!client.trySend(0, this.buf, now)) {
        this.backpressureRefusals++;
        return;
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

function snapshot(flow: ProtocolFlow): { client: ConnectionStats; server: ConnectionStats; simNow: number; backpressure: number } {
  return {
    client: flow.pair.client.stats(),
    server: flow.pair.server.stats(),
    simNow: flow.pair.sim.now,
    backpressure: flow.backpressureRefusals,
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
  const t = timed(flow, messages, budget);
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
    backpressureRefusals: b.backpressure - a.backpressure,
    simulatedSeconds: (b.simNow - a.simNow) / 1000,
  };
}

function baselineRun(messages: number): BaselineRun {
  const flow = new BaselineFlow();
  const t = timed(flow, messages, budget);
  return { name: BASELINE_NAME, ...t, bytesOnWirePerMessage: MESSAGE_SIZE, packets: flow.link.stats()['a-to-b'].sent };
}

export function runProtocolBench(messages = MESSAGES, warmupMessages = WARMUP_MESSAGES, repeats = REPEATS): ProtocolBenchResult {
  const specs: Spec[] = [
    { name: 'reliable-ordered 32B, 0% loss', loss: 0 },
    { name: 'reliable-ordered 32B, 10% loss', loss: 0.1 },
  ];
  budget = new Budget(BUDGET_MS);
  // Warm-up: every code path JIT-compiled before anything is timed.
  new BaselineFlow().run(warmupMessages * 4, budget.capAt());
  for (const s of specs) new ProtocolFlow(`warm-up ${s.name}`, s.loss).run(warmupMessages, budget.capAt());

  // Repetitions interleaved, so a slow spell of the machine does not land on one case only.
  const baseRuns: BaselineRun[] = [];
  const caseRuns: CaseRun[][] = specs.map(() => []);
  for (let r = 0; r < repeats; r++) {
    baseRuns.push(baselineRun(messages * BASELINE_FACTOR));
    specs.forEach((s, i) => caseRuns[i]!.push(protocolRun(s, messages)));
  }

  const baseAlloc = allocations(new BaselineFlow(), budget);
  const base = pickMedian(baseRuns);
  const baseline: BaselineResult = { ...base, bytesAllocatedPerMessage: baseAlloc.bytesPerMessage, allocation: baseAlloc };
  const cases = specs.map((s, i): ProtocolCase => {
    const flow = new ProtocolFlow(`allocations ${s.name}`, s.loss);
    const allocation = allocations(flow, budget);
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
    allocationMethod: ALLOCATION_METHOD,
    baseline,
    cases,
  };
}
