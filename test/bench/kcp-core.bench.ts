/**
 * KCP core benchmark: the reference C ikcp (through the `node-kcp` binding, loaded from KCP_DIR, never a
 * dependency) carrying 32-byte messages client → server over the same in-memory LinkSimulator as
 * protocol.bench.ts (seed 1, 20 ms latency each way, 0 % and 10 % loss), in simulated time, timed and measured
 * by the same code (core-harness.ts), so `npm run bench` prints it beside Volley's rows with their ratios.
 * Every delivery is checked (number and contents: exactly once, in order); a fault aborts that case.
 * Figures only: nothing here asserts on time.
 */

import { performance } from 'node:perf_hooks';
import { LinkSimulator, type LinkDirection } from '@volley/protocol';
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
  type Repeated,
  type Timing,
} from './core-harness.js';
import { KCP_DIR, loadKcp } from './net/kcp-peer.js';
import type { ProtocolCase } from './protocol.bench.js';

const BUDGET_MS = 120_000;
const SETTLE_MS = 2000;
/** KCP "fast" mode as its documentation gives it, windows like Volley's default reliable window. */
const KCP_NODELAY = [1, 10, 2, 1] as const;
const KCP_WINDOW = 1024;
const KCP_MTU = 1200;
const KCP_CONV = 0x566f6c6c;
/** ikcp segment header: conv u32, cmd u8, frg u8, wnd u16, ts u32, sn u32, una u32, len u32 (little-endian). */
const IKCP_OVERHEAD = 24;
const IKCP_CMD_PUSH = 81;

type KcpConstructor = Extract<ReturnType<typeof loadKcp>, { KCP: unknown }>['KCP'];
type KcpBase = InstanceType<KcpConstructor>;
/** The parts of node-kcp that kcp-peer.ts does not declare (setmtu may be absent in other builds). */
interface KcpCore extends KcpBase {
  waitsnd(): number;
  setmtu?: (mtu: number) => number;
}

export interface KcpCoreCase extends Timing, Repeated {
  name: string;
  loss: number;
  /** CPU µs per message of every repetition. */
  cpuRuns: number[];
  /** Datagram payload bytes, both directions (no UDP/IP headers), sent (lost ones included), per delivered message. */
  bytesOnWirePerMessage: number;
  packets: number;
  packetsClientToServer: number;
  packetsServerToClient: number;
  /** PUSH segments the client sent again (sn not above the highest sent), from its datagrams. */
  retransmissions: number;
  /** Datagrams the link dropped, both directions. */
  datagramsDropped: number;
  simulatedSeconds: number;
  bytesAllocatedPerMessage: number | null;
  allocation: Allocation;
}

export interface KcpCoreFailure {
  name: string;
  loss: number;
  error: string;
}

export interface KcpCoreRatio {
  loss: number;
  /** Volley ÷ KCP of each figure (null when either side failed or has no figure). */
  messagesPerSecond: number | null;
  bytesOnWirePerMessage: number | null;
  bytesAllocatedPerMessage: number | null;
  cpuMicrosPerMessage: number | null;
}

export interface KcpCoreBenchResult {
  config: {
    messageSize: number;
    latencyMs: number;
    messages: number;
    warmupMessages: number;
    minSeconds: number;
    repeats: number;
    kcpNodelay: readonly number[];
    kcpWindow: number;
    /** The MTU in effect: KCP_MTU if node-kcp has setmtu(), else ikcp's default 1400. */
    kcpMtu: number;
    kcpDir: string;
  };
  method: string;
  allocationMethod: string;
  seconds: number;
  cases: Array<KcpCoreCase | KcpCoreFailure>;
}

export type KcpCoreResult = KcpCoreBenchResult | { skipped: string };

/** Something that carries numbered messages and checks their delivery. */
interface Flow {
  readonly delivered: number;
  /** Sends and delivers `count` more messages; false if `wallDeadline` (performance.now()) stopped it first. */
  run(count: number, wallDeadline: number): boolean;
  /** Two quiet simulated seconds; everything sent must have been delivered once. */
  settle(): void;
  /** Running totals (callers take differences). */
  counters(): Counters;
  close(): void;
}

interface Counters {
  bytes: number;
  up: number;
  down: number;
  retransmissions: number;
  dropped: number;
  simNow: number;
}

function createKcp(KCP: KcpConstructor, mtu: boolean): KcpCore {
  const k = new KCP(KCP_CONV, {}) as KcpCore;
  if (typeof k.waitsnd !== 'function') {
    k.release();
    fail('node-kcp has no waitsnd(): the window cannot be kept full');
  }
  k.nodelay(...KCP_NODELAY);
  k.wndsize(KCP_WINDOW, KCP_WINDOW);
  if (mtu && k.setmtu?.(KCP_MTU) !== 0) fail(`ikcp_setmtu(${KCP_MTU}) failed`);
  return k;
}

/**
 * Two ikcp sessions over a LinkSimulator, in integer simulated milliseconds. Each step goes to the earliest of
 * either side's wake-up (now + check(now), at least 1 ms) and the link's next arrival; there it calls update(now)
 * on both sides (ikcp flushes only when its own interval or a resend is due; otherwise it just sets its clock),
 * feeds the arrivals to input(), drains the server with recv(), tops the client's send queue up to the window
 * and flushes it at once if it queued anything.
 */
class KcpFlow implements Flow {
  readonly link: LinkSimulator;
  delivered = 0;
  private sent = 0;
  private limit = 0;
  private now = 0;
  private retransmissions = 0;
  private maxSn = -1;
  private nextClient = 0;
  private nextServer = 0;
  private closed = false;
  private readonly client: KcpCore;
  private readonly server: KcpCore;
  private readonly buf = Buffer.alloc(MESSAGE_SIZE);

  constructor(
    KCP: KcpConstructor,
    readonly name: string,
    loss: number,
    mtu: boolean,
  ) {
    this.link = new LinkSimulator({ seed: 1, conditions: { loss, latency: LATENCY_MS } });
    this.client = createKcp(KCP, mtu);
    this.server = createKcp(KCP, mtu);
    this.client.output((data, size) => {
      this.countRetransmissions(data, size);
      this.put('a-to-b', data, size);
    });
    this.server.output((data, size) => this.put('b-to-a', data, size));
    this.client.update(0);
    this.server.update(0);
  }

  /** A view, so that the link copies the datagram as it copies Volley's (it does not copy a Buffer: Buffer.slice is a view). */
  private put(direction: LinkDirection, data: Buffer, size: number): void {
    this.link.send(direction, new Uint8Array(data.buffer, data.byteOffset, size), this.now);
  }

  private countRetransmissions(d: Buffer, size: number): void {
    for (let off = 0; off + IKCP_OVERHEAD <= size; off += IKCP_OVERHEAD + d.readUInt32LE(off + 20)) {
      if (d[off + 4] !== IKCP_CMD_PUSH) continue;
      const sn = d.readUInt32LE(off + 12);
      if (sn <= this.maxSn) this.retransmissions++;
      else this.maxSn = sn;
    }
  }

  private step(): void {
    const t = Math.min(this.nextClient, this.nextServer, this.link.nextDeliveryTime());
    const now = (this.now = Math.max(this.now, Math.ceil(t)));
    const client = this.client;
    const server = this.server;
    client.update(now);
    server.update(now);
    for (const { direction, datagram: d } of this.link.deliver(now)) {
      const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
      const r = direction === 'a-to-b' ? server.input(b) : client.input(b);
      if (r < 0) fail(`${this.name}: ikcp_input returned ${r}`);
    }
    for (let m = server.recv(); m !== undefined; m = server.recv()) {
      checkMessage(m, this.delivered, this.name);
      if (++this.delivered > this.sent) fail(`${this.name}: delivered more messages than were sent`);
    }
    let room = Math.min(KCP_WINDOW - client.waitsnd(), this.limit - this.sent);
    if (room > 0) {
      for (; room > 0; room--) {
        writeMessage(this.buf, this.sent);
        const r = client.send(this.buf);
        if (r < 0) fail(`${this.name}: ikcp_send returned ${r}`);
        this.sent++;
      }
      client.flush();
    }
    this.nextClient = now + Math.max(1, client.check(now));
    this.nextServer = now + Math.max(1, server.check(now));
  }

  run(count: number, wallDeadline: number): boolean {
    this.limit = this.delivered + count;
    const simEnd = this.now + SIM_CAP_MS;
    let progress = this.delivered;
    let progressAt = this.now;
    for (let steps = 1; this.delivered < this.limit; steps++) {
      if ((steps & 15) === 0 && performance.now() > wallDeadline) return false;
      this.step();
      if (this.delivered !== progress) {
        progress = this.delivered;
        progressAt = this.now;
      } else if (this.now - progressAt > STALL_MS) {
        fail(`${this.name}: stalled, nothing delivered for ${STALL_MS} ms simulated (next expected #${this.delivered})`);
      }
      if (this.now > simEnd) fail(`${this.name}: stalled at ${this.delivered} of ${this.limit} messages after ${SIM_CAP_MS} ms simulated`);
    }
    return true;
  }

  settle(): void {
    this.limit = this.sent;
    const end = this.now + SETTLE_MS;
    while (this.now < end) this.step();
    if (this.delivered !== this.sent) fail(`${this.name}: ${this.sent} messages sent, ${this.delivered} delivered`);
  }

  counters(): Counters {
    const s = this.link.stats();
    const up = s['a-to-b'];
    const down = s['b-to-a'];
    return {
      bytes: up.bytesSent + down.bytesSent,
      up: up.sent,
      down: down.sent,
      retransmissions: this.retransmissions,
      dropped: up.dropped + down.dropped,
      simNow: this.now,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const k of [this.client, this.server]) {
      k.output(() => {}); // drop the persistent callback (it holds this flow), then free ikcp
      k.release();
    }
  }
}

interface Spec {
  name: string;
  loss: number;
  runs: CaseRun[];
  error?: string;
}

type CaseRun = Omit<KcpCoreCase, 'name' | 'loss' | 'runs' | 'cpuRuns' | 'bytesAllocatedPerMessage' | 'allocation'>;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function runKcpCoreBench(messages = MESSAGES, warmupMessages = WARMUP_MESSAGES, repeats = REPEATS): KcpCoreResult {
  const loaded = loadKcp();
  if ('error' in loaded) return { skipped: loaded.error };
  const KCP = loaded.KCP;
  let mtu: boolean;
  try {
    const probe = new KCP(KCP_CONV, {}) as KcpCore;
    mtu = typeof probe.setmtu === 'function';
    probe.release();
  } catch (e) {
    return { skipped: `node-kcp at ${KCP_DIR} loads but cannot create a session: ${errorText(e)}` };
  }
  const began = performance.now();
  const budget = new Budget(BUDGET_MS);
  const lossLevels = [0, 0.1];
  const specs: Spec[] = [];
  for (const loss of lossLevels) specs.push({ name: `KCP fast 32B, ${Math.round(loss * 100)}% loss`, loss, runs: [] });
  const flow = (s: Spec, name = s.name): KcpFlow => new KcpFlow(KCP, name, s.loss, mtu);
  /** Runs `body` on a fresh flow of `s`, closes it; a fault marks the case failed. */
  const attempt = (s: Spec, name: string, body: (f: KcpFlow) => void): void => {
    if (s.error !== undefined) return;
    let f: KcpFlow | undefined;
    try {
      f = flow(s, name);
      body(f);
    } catch (e) {
      s.error = errorText(e);
    } finally {
      f?.close();
    }
  };

  // Warm-up: every code path JIT-compiled before anything is timed.
  for (const s of specs) attempt(s, `warm-up ${s.name}`, (f) => f.run(warmupMessages, budget.capAt()));
  // Repetitions interleaved, so a slow spell of the machine does not land on one case only.
  for (let r = 0; r < repeats; r++) {
    for (const s of specs) {
      attempt(s, s.name, (f) => {
        const a = f.counters();
        const t = timed(f, messages, budget);
        const b = f.counters();
        f.settle();
        s.runs.push({
          ...t,
          bytesOnWirePerMessage: (b.bytes - a.bytes) / Math.max(1, t.messages),
          packets: b.up - a.up + b.down - a.down,
          packetsClientToServer: b.up - a.up,
          packetsServerToClient: b.down - a.down,
          retransmissions: b.retransmissions - a.retransmissions,
          datagramsDropped: b.dropped - a.dropped,
          simulatedSeconds: (b.simNow - a.simNow) / 1000,
        });
      });
    }
  }
  const cases = specs.map((s): KcpCoreCase | KcpCoreFailure => {
    let allocation: Allocation | undefined;
    attempt(s, `allocations ${s.name}`, (f) => {
      allocation = allocations(f, budget);
      f.settle();
    });
    if (s.error !== undefined || allocation === undefined || s.runs.length === 0) {
      return { name: s.name, loss: s.loss, error: s.error ?? 'no run completed' };
    }
    return {
      name: s.name,
      loss: s.loss,
      ...pickMedian(s.runs),
      cpuRuns: s.runs.map((r) => Math.round(r.cpuMicrosPerMessage * 1000) / 1000),
      bytesAllocatedPerMessage: allocation.bytesPerMessage,
      allocation,
    };
  });

  const [nodelay, interval, resend, nc] = KCP_NODELAY;
  return {
    config: {
      messageSize: MESSAGE_SIZE,
      latencyMs: LATENCY_MS,
      messages,
      warmupMessages,
      minSeconds: MIN_SECONDS,
      repeats,
      kcpNodelay: KCP_NODELAY,
      kcpWindow: KCP_WINDOW,
      kcpMtu: mtu ? KCP_MTU : 1400,
      kcpDir: KCP_DIR,
    },
    method:
      `KCP: two ikcp sessions (node-kcp from ${KCP_DIR}, in this process) joined by protocol.bench's LinkSimulator ` +
      `(seed 1, ${LATENCY_MS} ms each way, the case's loss both ways); nodelay(${nodelay}, ${interval}, ${resend}, ${nc}), ` +
      `wndsize(${KCP_WINDOW}, ${KCP_WINDOW}), ` +
      (mtu ? `setmtu(${KCP_MTU})` : `MTU left at ikcp's 1400 (this node-kcp has no setmtu)`) +
      ', message mode; simulated time in integer ms (all event times are integers: 20 ms latency and check() deltas; ' +
      "Math.ceil guards), stepping to the earliest of each side's now + max(1, check(now)) and the next arrival; at each step " +
      'update(now) on both (ikcp flushes only when its interval or a resend is due, else it only sets its clock), input() the ' +
      'arrivals, recv() every message at the server, top the client up with send() to waitsnd() = window and flush() at once ' +
      "(ACKs leave at the server's next interval flush). Wire = every datagram output() produced, both ways, lost ones " +
      'included; retx = PUSH segments the client resent (parsed from its datagrams). Timing and allocations by the ' +
      'same code as the Volley rows (core-harness.ts). Each repetition: a fresh flow, global.gc(), then timed until >= ' +
      `${MIN_SECONDS} s (rounds of ${messages}, then a quarter); figures from the repetition with the median msg/s; CPU = ` +
      'process.cpuUsage() user + system over the same interval, per message; a 2 s simulated settle then checks sent === delivered',
    allocationMethod: `${ALLOCATION_METHOD}. For KCP this sees the binding's JS Buffers (output datagrams, recv() results) but not ikcp's own malloc()ed segments`,
    seconds: (performance.now() - began) / 1000,
    cases,
  };
}

/** Volley ÷ KCP of each figure at each loss both measured (null where either has no figure). */
export function kcpRatios(kcp: KcpCoreResult, volley: ProtocolCase[]): KcpCoreRatio[] {
  if ('skipped' in kcp) return [];
  const ratio = (v: number | null | undefined, k: number | null | undefined): number | null =>
    v === null || v === undefined || k === null || k === undefined || k === 0 ? null : v / k;
  return kcp.cases.flatMap((k): KcpCoreRatio[] => {
    const v = volley.find((c) => c.loss === k.loss);
    if ('error' in k || v === undefined) return [];
    return [
      {
        loss: k.loss,
        messagesPerSecond: ratio(v.messagesPerSecond, k.messagesPerSecond),
        bytesOnWirePerMessage: ratio(v.bytesOnWirePerMessage, k.bytesOnWirePerMessage),
        bytesAllocatedPerMessage: ratio(v.bytesAllocatedPerMessage, k.bytesAllocatedPerMessage),
        cpuMicrosPerMessage: ratio(v.cpuMicrosPerMessage, k.cpuMicrosPerMessage),
      },
    ];
  });
}

/** Rows in run.ts table()'s columns ('vs base' has no bare-datagram baseline here: '-'), plus CPU µs/msg. */
export function kcpCoreTable(result: KcpCoreResult, ratios: KcpCoreRatio[]): string {
  if ('skipped' in result) return `KCP core: skipped (${result.skipped})`;
  const head = ['case', 'messages', 'seconds', 'msg/s', 'vs base', 'wire B/msg', 'packets', 'retx', 'alloc B/msg', 'CPU µs/msg'];
  const body = result.cases.map((r) =>
    'error' in r
      ? [`${r.name} (FAILED: ${r.error})`, '-', '-', '-', '-', '-', '-', '-', '-', '-']
      : [
          r.name + (r.capped ? ' (CAPPED)' : ''),
          String(r.messages),
          r.seconds.toFixed(2),
          Math.round(r.messagesPerSecond).toLocaleString('en-US'),
          '-',
          r.bytesOnWirePerMessage.toFixed(1),
          String(r.packets),
          String(r.retransmissions),
          r.bytesAllocatedPerMessage === null ? 'n/a' : String(r.bytesAllocatedPerMessage),
          r.cpuMicrosPerMessage.toFixed(3),
        ],
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const x = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(2)}×`);
  const ratioLines = ratios.map(
    (q) =>
      `Volley ÷ KCP at ${Math.round(q.loss * 100)}% loss: msg/s ${x(q.messagesPerSecond)}, wire B/msg ${x(q.bytesOnWirePerMessage)}, ` +
      `alloc B/msg ${x(q.bytesAllocatedPerMessage)}, CPU µs/msg ${x(q.cpuMicrosPerMessage)}`,
  );
  return [line(head), ...body.map(line), ...ratioLines].join('\n');
}
