/**
 * Transport benchmark: Volley's client and server over real loopback sockets (127.0.0.1), one transport at a
 * time (UDP, WebRTC, WebSocket, long-polling), against a bare `ws` echo (WebSocketServer echoing each binary
 * message, `ws` client) as the baseline, all in this one process and run:
 *  1. echo RTT: sequential 32-byte echoes (send, wait for the echo, repeat) after a warm-up: median and p99;
 *  2. throughput: a pipelined stream of 32-byte messages echoed back, at most WINDOW outstanding, on the
 *     reliable-ordered channel: echoes per second over a timed span after a warm-up.
 * Client and server share this process's event loop (as do the baseline's), so the figures are CPU cost plus
 * loopback latency of both ends together. Every echo is checked (size, contents, exactly once, in order); a
 * fault ends that case with an error, which the table and the JSON show. Every server started here is closed,
 * and every wait is bounded in count and in time. Figures only: nothing here asserts on speed.
 */

import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import { GCProfiler } from 'node:v8';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { connect, type Client, type TransportKind } from '@volley/client';
import { SendError } from '@volley/protocol';
import { Server } from '@volley/server';
import { percentile } from './percentile.js';

const MESSAGE_SIZE = 32;
/**
 * Sequential echoes timed per case (polling too: < 1 ms each), after up to RTT_WARMUP untimed ones or
 * RTT_WARMUP_MS, whichever ends first. The warm-up is that long because Volley's stack takes ~2500 echoes to
 * reach steady state: after 100, medians were ~2× higher and the p99 was JIT pauses of 2–8 ms.
 */
const RTT_ECHOES = 2000;
const RTT_WARMUP = 3000;
const RTT_WARMUP_MS = 1500;
/** Longest wait for one echo, and for the timed echoes of one case (they stop early, marked capped). */
const ECHO_TIMEOUT_MS = 3000;
const RTT_PHASE_CAP_MS = 8000;
/** Throughput: messages outstanding (sent, not yet echoed) at most; the reliable channel's window is 1024. */
const WINDOW = 256;
const THROUGHPUT_WARMUP_MS = 500;
const THROUGHPUT_MS = 2000;
/** After the timed span: longest wait for the echoes still outstanding. */
const DRAIN_TIMEOUT_MS = 5000;
/** Retry after a SendError 'backpressure' (an echo arriving retries sooner). */
const BACKPRESSURE_RETRY_MS = 1;
const OPEN_TIMEOUT_MS = 10_000;
/** Cap on the whole benchmark: cases not started by then are skipped (reported as errors). */
const BUDGET_MS = 75_000;
const TYPE = 'e';
const CHANNEL = 'reliable-ordered' as const;
const BASELINE_NAME = 'baseline: bare ws echo';
// Out of the way: the bench measures throughput, from many clients on one address.
const LIMITS = {
  messagesPerSecond: 1e7,
  bytesPerSecond: 1e10,
  packetsPerSecond: 1e7,
  maxSessionsPerSource: 1e6,
  maxPendingLinksPerSource: 1e6,
  newSessionsPerSecondPerSource: 1e6,
};

export interface RttResult {
  echoes: number;
  /** Untimed echoes before (RTT_WARMUP, or fewer if RTT_WARMUP_MS ran out first). */
  warmup: number;
  /** True when RTT_PHASE_CAP_MS stopped the phase before `echoes` were timed (then `echoes` is what was). */
  capped: boolean;
  medianUs: number;
  p99Us: number;
  meanUs: number;
  minUs: number;
  maxUs: number;
  /** Garbage collections during the timed echoes (v8.GCProfiler) and their total pause, ms: most of the p99. */
  gcs: number;
  gcMs: number;
}

export interface ThroughputResult {
  channel: string;
  window: number;
  /** Echoes received in the timed span. */
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  /** Times send() threw SendError 'backpressure' (the top-up waits for an echo or BACKPRESSURE_RETRY_MS). */
  backpressureWaits: number;
  /** Garbage collections in the timed span, and their total pause (ms). */
  gcs: number;
  gcMs: number;
  /** Volley only, client side, timed span: protocol datagrams and bytes (no transport framing) per message. */
  packetsSentPerMessage?: number;
  bytesSentPerMessage?: number;
  packetsReceivedPerMessage?: number;
  retransmissions?: number;
  /** Packets the client declared lost, and of those later acknowledged after all (not really lost). */
  packetsLost?: number;
  spuriousLosses?: number;
}

/** Polling only: the client's HTTP requests (fetch), counted and timed from call to response headers. */
export interface HttpBreakdown {
  phase: 'rtt' | 'throughput';
  messages: number;
  gets: number;
  posts: number;
  getsPerMessage: number;
  postsPerMessage: number;
  /** Mean time from fetch() to the response headers, µs. A GET is held until the server has data. */
  meanGetUs: number;
  meanPostUs: number;
}

export interface TransportCase {
  name: string;
  transport: TransportKind | 'ws';
  connectMs: number;
  rtt: RttResult | null;
  throughput: ThroughputResult | null;
  /** volley / ws: above 1 is slower. */
  rttMedianRatioToBaseline: number | null;
  rttP99RatioToBaseline: number | null;
  /** volley / ws: below 1 is slower. */
  throughputRatioToBaseline: number | null;
  http?: HttpBreakdown[];
  /** Set when the case failed (connect, a lost or wrong echo, a server error); its figures are then partial. */
  error?: string;
}

export interface TransportsBenchResult {
  config: {
    messageSize: number;
    rttEchoes: number;
    rttWarmup: number;
    rttWarmupMs: number;
    window: number;
    channel: string;
    throughputWarmupMs: number;
    throughputMs: number;
    serverLimits: typeof LIMITS;
  };
  method: string;
  seconds: number;
  baseline: TransportCase;
  cases: TransportCase[];
  /** For reading polling's RTT: one bare fetch() POST → 204 exchange with node:http, timed like the echoes. */
  fetchReference: { name: string; rtt: RttResult | null; error?: string };
}

/** One echo connection, whatever carries it. */
interface Peer {
  /** Sends one message; may throw SendError('backpressure'). */
  send(data: Uint8Array): void;
  /** Set by the benchmark: every echo. */
  onEcho: (data: Uint8Array) => void;
  /** Set by the benchmark: a fault seen outside an echo (server error, disconnect). */
  onFault: (why: string) => void;
  /** Volley: the client's connection stats. */
  stats?: () => {
    packetsSent: number;
    bytesSent: number;
    packetsReceived: number;
    retransmissions: number;
    packetsLost: number;
    spuriousLosses: number;
  };
  close(): Promise<void>;
}

class Fault extends Error {}

function message(n: number): Uint8Array {
  const b = new Uint8Array(MESSAGE_SIZE);
  b[0] = n;
  b[1] = n >>> 8;
  b[2] = n >>> 16;
  b[3] = n >>> 24;
  for (let i = 4; i < MESSAGE_SIZE; i++) b[i] = (n + i) & 0xff;
  return b;
}

function check(data: Uint8Array, expected: number): void {
  let ok = data.length === MESSAGE_SIZE && (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0 === expected >>> 0;
  for (let i = 4; ok && i < MESSAGE_SIZE; i++) ok = data[i] === ((expected + i) & 0xff);
  if (!ok) {
    const got = data.length >= 4 ? `#${(data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0}` : 'garbage';
    throw new Fault(`expected echo #${expected}, got ${got} (${data.length} bytes): not exactly-once in-order delivery`);
  }
}

/** Resolves with `p`, or rejects after `ms` (the timer is cleared either way). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Fault(`${what}: no answer within ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- peers ------------------------------------------------------------------------------------

/** The baseline: a bare ws WebSocketServer echoing each binary message, and a ws client. */
async function wsBaseline(): Promise<{ peer: Peer; connectMs: number }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
  wss.on('connection', (sock) => {
    sock.on('message', (data: RawData, isBinary: boolean) => sock.send(data, { binary: isBinary }));
    sock.on('error', () => {});
  });
  const stopServer = async (): Promise<void> => {
    for (const c of wss.clients) c.terminate();
    await within(new Promise<void>((r) => wss.close(() => r())), 5000, 'ws server close').catch(() => {});
  };
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        wss.once('listening', resolve);
        wss.once('error', reject);
      }),
      5000,
      'ws server listen',
    );
    const address = wss.address();
    if (typeof address !== 'object' || address === null) throw new Error('ws server has no address');
    const started = performance.now();
    const ws = new WebSocket(`ws://127.0.0.1:${address.port}`, { perMessageDeflate: false });
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once('open', () => resolve());
        ws.once('error', reject);
      }),
      OPEN_TIMEOUT_MS,
      'ws connect',
    );
    const connectMs = performance.now() - started;
    const peer: Peer = {
      send: (d) => ws.send(d),
      onEcho: () => {},
      onFault: () => {},
      close: async () => {
        ws.close();
        await within(
          new Promise<void>((r) => (ws.readyState === WebSocket.CLOSED ? r() : ws.once('close', () => r()))),
          2000,
          'ws client close',
        ).catch(() => ws.terminate());
        await stopServer();
      },
    };
    ws.on('message', (data: RawData) => {
      if (!(data instanceof Buffer)) return peer.onFault('ws: echo is not one Buffer');
      peer.onEcho(data);
    });
    ws.on('error', (e) => peer.onFault(`ws client: ${e.message}`));
    ws.on('close', () => peer.onFault('ws: closed'));
    return { peer, connectMs };
  } catch (e) {
    await stopServer();
    throw e;
  }
}

/** A Volley server offering only `kind` (rate limits raised), echoing every message on its channel, and a client. */
async function volley(kind: TransportKind): Promise<{ peer: Peer; connectMs: number }> {
  const server = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, transports: [kind], limits: LIMITS });
  let peer: Peer | undefined;
  const serverFaults: string[] = [];
  server.onAnyMessage((session, type, data, { channel }) => session.send(type, data, { channel }));
  server.onError((e) => {
    const why = `server error: ${e instanceof Error ? e.message : String(e)}`;
    if (peer) peer.onFault(why);
    else serverFaults.push(why);
  });
  let client: Client | undefined;
  try {
    await server.listen();
    const started = performance.now();
    client = await connect(server.address().url, { transports: [kind], openTimeout: OPEN_TIMEOUT_MS, statsInterval: 0 });
    const connectMs = performance.now() - started;
    if (client.transport !== kind) throw new Error(`connected over ${client.transport}, not ${kind}`);
    if (serverFaults.length > 0) throw new Error(serverFaults[0]);
    const c = client;
    const p: Peer = {
      send: (d) => c.send(TYPE, d, { channel: CHANNEL }),
      onEcho: () => {},
      onFault: () => {},
      stats: () => c.stats(),
      close: async () => {
        await within(c.close(), 2000, `${kind} client close`).catch(() => {});
        await within(server.close(), 10_000, `${kind} server close`);
      },
    };
    peer = p;
    c.onMessage(TYPE, (data) => {
      if (!(data instanceof Uint8Array)) return p.onFault(`echo is not raw bytes: ${typeof data}`);
      p.onEcho(data);
    });
    c.onAnyMessage((type) => p.onFault(`unexpected message type '${type}'`));
    c.on('transport', (kind, previous, reason) => p.onFault(`session moved from ${previous} to ${kind}: ${reason}`));
    c.on('disconnect', (reason, text) => p.onFault(`disconnected (${reason}): ${text}`));
    return { peer: p, connectMs };
  } catch (e) {
    if (client) await within(client.close(), 2000, `${kind} client close`).catch(() => {});
    await within(server.close(), 10_000, `${kind} server close`).catch(() => {});
    throw e;
  }
}

// ---- measurements -----------------------------------------------------------------------------

/** Runs `f` under a v8.GCProfiler: the collections in it and their total pause (ms). */
async function profiled<T>(f: () => Promise<T>): Promise<{ value: T; gcs: number; gcMs: number }> {
  const profiler = new GCProfiler();
  profiler.start();
  let stopped = false;
  try {
    const value = await f();
    const { statistics } = profiler.stop();
    stopped = true;
    return { value, gcs: statistics.length, gcMs: Math.round(statistics.reduce((t, g) => t + g.cost, 0) / 100) / 10 };
  } finally {
    if (!stopped) profiler.stop();
  }
}

function summarize(samples: number[], warmup: number, capped: boolean, gcs: number, gcMs: number): RttResult {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x: number): number => Math.round(x * 10) / 10;
  return {
    echoes: samples.length,
    warmup,
    capped,
    medianUs: round(percentile(sorted, 0.5)),
    p99Us: round(percentile(sorted, 0.99)),
    meanUs: round(samples.reduce((t, x) => t + x, 0) / samples.length),
    minUs: round(sorted[0]!),
    maxUs: round(sorted[sorted.length - 1]!),
    gcs,
    gcMs,
  };
}

/**
 * Sequential echoes: up to `warmup` untimed (for at most RTT_WARMUP_MS), a global.gc(), then up to `count`
 * timed (fewer if RTT_PHASE_CAP_MS runs out).
 */
async function measureRtt(peer: Peer, count: number, warmup: number): Promise<RttResult> {
  let expected = 0;
  let waiter: { resolve: () => void; reject: (e: Error) => void } | undefined;
  let fault: Error | undefined;
  peer.onFault = (why) => {
    fault ??= new Fault(why);
    waiter?.reject(fault);
  };
  peer.onEcho = (d) => {
    const w = waiter;
    if (!w) {
      fault ??= new Fault('echo with none outstanding');
      return;
    }
    waiter = undefined;
    try {
      check(d, expected);
      w.resolve();
    } catch (e) {
      fault ??= e as Error;
      w.reject(fault);
    }
  };
  let capped: boolean;
  /** `n` echoes (or until `ms` have passed); their round trips in µs. */
  const echoes = async (n: number, ms: number): Promise<number[]> => {
    const samples: number[] = [];
    const deadline = performance.now() + ms;
    for (let i = 0; i < n; i++) {
      if (fault) throw fault;
      if (performance.now() > deadline) {
        capped = true;
        break;
      }
      const echoed = new Promise<void>((resolve, reject) => (waiter = { resolve, reject }));
      const t0 = performance.now();
      peer.send(message(expected));
      await within(echoed, ECHO_TIMEOUT_MS, `echo #${expected}`);
      samples.push((performance.now() - t0) * 1000);
      expected++;
    }
    if (fault) throw fault;
    return samples;
  };
  const warmed = (await echoes(warmup, RTT_WARMUP_MS)).length;
  capped = false;
  globalThis.gc?.();
  const { value: samples, gcs, gcMs } = await profiled(() => echoes(count, RTT_PHASE_CAP_MS));
  if (samples.length === 0) throw new Fault('no echo timed');
  return summarize(samples, warmed, capped, gcs, gcMs);
}

/**
 * Reference for polling: sequential bare fetch() POSTs of 32 bytes to a node:http server answering 204, on
 * loopback (one HTTP exchange through the same fetch() the polling client uses; it needs ~2 per echo).
 */
async function fetchReference(): Promise<RttResult> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  try {
    await within(
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      }),
      5000,
      'http server listen',
    );
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('http server has no address');
    const url = `http://127.0.0.1:${address.port}/`;
    let capped = false;
    const exchanges = async (n: number, ms: number): Promise<number[]> => {
      const samples: number[] = [];
      const deadline = performance.now() + ms;
      for (let i = 0; i < n; i++) {
        if (performance.now() > deadline) {
          capped = true;
          break;
        }
        const t0 = performance.now();
        const res = await within(
          fetch(url, { method: 'POST', body: message(i) as Uint8Array<ArrayBuffer> }),
          ECHO_TIMEOUT_MS,
          `fetch #${i}`,
        );
        await res.arrayBuffer();
        if (res.status !== 204) throw new Fault(`fetch #${i}: HTTP ${res.status}`);
        samples.push((performance.now() - t0) * 1000);
      }
      return samples;
    };
    const warmed = (await exchanges(RTT_WARMUP, RTT_WARMUP_MS)).length;
    capped = false;
    globalThis.gc?.();
    const { value: samples, gcs, gcMs } = await profiled(() => exchanges(RTT_ECHOES, RTT_PHASE_CAP_MS));
    if (samples.length === 0) throw new Fault('no fetch timed');
    return summarize(samples, warmed, capped, gcs, gcMs);
  } finally {
    server.closeAllConnections();
    await within(new Promise<void>((r) => server.close(() => r())), 5000, 'http server close').catch(() => {});
  }
}

/**
 * A pipelined stream: keeps up to WINDOW messages outstanding (topped up on every echo), for
 * THROUGHPUT_WARMUP_MS untimed, then THROUGHPUT_MS timed; then waits (bounded) for every outstanding echo.
 */
async function measureThroughput(peer: Peer, onTimedStart: () => void, onTimedEnd: () => void): Promise<ThroughputResult> {
  let sent = 0;
  let echoed = 0;
  let stopping = false;
  let backpressureWaits = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let fault: Error | undefined;
  let wake: (() => void) | undefined;
  const failWith = (e: Error): void => {
    fault ??= e;
    wake?.();
  };
  const topUp = (): void => {
    while (!stopping && !fault && sent - echoed < WINDOW) {
      try {
        peer.send(message(sent));
      } catch (e) {
        if (e instanceof SendError && e.code === 'backpressure') {
          backpressureWaits++;
          retryTimer ??= setTimeout(() => {
            retryTimer = undefined;
            topUp();
          }, BACKPRESSURE_RETRY_MS);
          return;
        }
        return failWith(e as Error);
      }
      sent++;
    }
  };
  peer.onFault = (why) => failWith(new Fault(why));
  peer.onEcho = (d) => {
    if (fault) return;
    if (echoed >= sent) return failWith(new Fault(`echo #${echoed} before it was sent`));
    try {
      check(d, echoed);
    } catch (e) {
      return failWith(e as Error);
    }
    echoed++;
    if (stopping) {
      if (echoed === sent) wake?.();
    } else topUp();
  };
  /** Waits `ms` or until a fault (or the drain) wakes it. */
  const pause = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });
  try {
    topUp();
    await pause(THROUGHPUT_WARMUP_MS);
    if (fault) throw fault;
    globalThis.gc?.();
    const before = peer.stats?.();
    const e0 = echoed;
    onTimedStart();
    const t0 = performance.now();
    const { gcs, gcMs } = await profiled(() => pause(THROUGHPUT_MS));
    const t1 = performance.now();
    const e1 = echoed;
    onTimedEnd();
    const after = peer.stats?.();
    stopping = true;
    if (fault) throw fault;
    if (echoed < sent) await pause(DRAIN_TIMEOUT_MS);
    if (fault) throw fault;
    if (echoed !== sent) throw new Fault(`${sent} sent, ${echoed} echoed ${DRAIN_TIMEOUT_MS} ms after the stream stopped`);
    const messages = e1 - e0;
    const seconds = (t1 - t0) / 1000;
    const result: ThroughputResult = {
      channel: CHANNEL,
      window: WINDOW,
      messages,
      seconds,
      messagesPerSecond: messages / seconds,
      backpressureWaits,
      gcs,
      gcMs,
    };
    if (before && after && messages > 0) {
      const per = (x: number): number => Math.round((x / messages) * 1000) / 1000;
      result.packetsSentPerMessage = per(after.packetsSent - before.packetsSent);
      result.bytesSentPerMessage = per(after.bytesSent - before.bytesSent);
      result.packetsReceivedPerMessage = per(after.packetsReceived - before.packetsReceived);
      result.retransmissions = after.retransmissions - before.retransmissions;
      result.packetsLost = after.packetsLost - before.packetsLost;
      result.spuriousLosses = after.spuriousLosses - before.spuriousLosses;
    }
    return result;
  } finally {
    stopping = true;
    if (retryTimer) clearTimeout(retryTimer);
  }
}

// ---- polling's HTTP requests --------------------------------------------------------------------

interface FetchMark {
  gets: number;
  posts: number;
  getUs: number;
  postUs: number;
}

/** Counts and times the polling client's fetch() calls (it captures globalThis.fetch when its transport is made). */
class FetchMeter {
  gets = 0;
  posts = 0;
  getUs = 0;
  postUs = 0;
  private readonly original = globalThis.fetch;

  install(): void {
    const original = this.original;
    globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
      const t0 = performance.now();
      const res = await original(input, init);
      const us = (performance.now() - t0) * 1000;
      if (method === 'GET' && String(input instanceof Request ? input.url : input).includes('/volley/poll/')) {
        this.gets++;
        this.getUs += us;
      } else if (method === 'POST' && !String(input instanceof Request ? input.url : input).endsWith('/open')) {
        this.posts++;
        this.postUs += us;
      }
      return res;
    };
  }

  uninstall(): void {
    globalThis.fetch = this.original;
  }

  mark(): FetchMark {
    return { gets: this.gets, posts: this.posts, getUs: this.getUs, postUs: this.postUs };
  }

  /** Requests between two marks, per message. */
  static between(phase: HttpBreakdown['phase'], a: FetchMark, b: FetchMark, messages: number): HttpBreakdown {
    const gets = b.gets - a.gets;
    const posts = b.posts - a.posts;
    const r = (x: number): number => Math.round(x * 1000) / 1000;
    return {
      phase,
      messages,
      gets,
      posts,
      getsPerMessage: r(gets / messages),
      postsPerMessage: r(posts / messages),
      meanGetUs: gets ? Math.round((b.getUs - a.getUs) / gets) : 0,
      meanPostUs: posts ? Math.round((b.postUs - a.postUs) / posts) : 0,
    };
  }
}

// ---- cases --------------------------------------------------------------------------------------

async function runCase(name: string, transport: TransportKind | 'ws', deadline: number): Promise<TransportCase> {
  const result: TransportCase = {
    name,
    transport,
    connectMs: 0,
    rtt: null,
    throughput: null,
    rttMedianRatioToBaseline: null,
    rttP99RatioToBaseline: null,
    throughputRatioToBaseline: null,
  };
  if (performance.now() > deadline) {
    result.error = `skipped: the benchmark's ${BUDGET_MS / 1000} s budget ran out`;
    return result;
  }
  const meter = transport === 'polling' ? new FetchMeter() : undefined;
  meter?.install();
  let peer: Peer | undefined;
  try {
    const opened = transport === 'ws' ? await wsBaseline() : await volley(transport);
    peer = opened.peer;
    result.connectMs = Math.round(opened.connectMs * 10) / 10;
    const m0 = meter?.mark();
    result.rtt = await measureRtt(peer, RTT_ECHOES, RTT_WARMUP);
    const m1 = meter?.mark();
    // Warm-up echoes included: their requests are in the same span.
    if (m0 && m1) result.http = [FetchMeter.between('rtt', m0, m1, result.rtt.echoes + result.rtt.warmup)];
    let t0: FetchMark | undefined;
    let t1: FetchMark | undefined;
    result.throughput = await measureThroughput(
      peer,
      () => (t0 = meter?.mark()),
      () => (t1 = meter?.mark()),
    );
    if (t0 && t1 && result.throughput.messages > 0) result.http?.push(FetchMeter.between('throughput', t0, t1, result.throughput.messages));
  } catch (e) {
    result.error = e instanceof Error ? e.message : String(e);
  } finally {
    if (peer) {
      try {
        await peer.close();
      } catch (e) {
        result.error ??= `close: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    meter?.uninstall();
  }
  return result;
}

export async function runTransportsBench(): Promise<TransportsBenchResult> {
  const start = performance.now();
  const deadline = start + BUDGET_MS;
  const baseline = await runCase(BASELINE_NAME, 'ws', deadline);
  const specs: { name: string; kind: TransportKind }[] = [
    { name: 'volley udp', kind: 'udp' },
    { name: 'volley webrtc', kind: 'webrtc' },
    { name: 'volley websocket', kind: 'websocket' },
    { name: 'volley polling', kind: 'polling' },
  ];
  const cases: TransportCase[] = [];
  for (const s of specs) {
    const c = await runCase(s.name, s.kind, deadline);
    if (c.rtt && baseline.rtt) {
      c.rttMedianRatioToBaseline = c.rtt.medianUs / baseline.rtt.medianUs;
      c.rttP99RatioToBaseline = c.rtt.p99Us / baseline.rtt.p99Us;
    }
    if (c.throughput && baseline.throughput)
      c.throughputRatioToBaseline = c.throughput.messagesPerSecond / baseline.throughput.messagesPerSecond;
    cases.push(c);
  }
  if (baseline.rtt) {
    baseline.rttMedianRatioToBaseline = 1;
    baseline.rttP99RatioToBaseline = 1;
  }
  if (baseline.throughput) baseline.throughputRatioToBaseline = 1;
  const fetchRef: TransportsBenchResult['fetchReference'] = { name: 'reference: bare fetch() POST → 204 on node:http', rtt: null };
  if (performance.now() > deadline) fetchRef.error = `skipped: the benchmark's ${BUDGET_MS / 1000} s budget ran out`;
  else {
    try {
      fetchRef.rtt = await fetchReference();
    } catch (e) {
      fetchRef.error = e instanceof Error ? e.message : String(e);
    }
  }
  return {
    config: {
      messageSize: MESSAGE_SIZE,
      rttEchoes: RTT_ECHOES,
      rttWarmup: RTT_WARMUP,
      rttWarmupMs: RTT_WARMUP_MS,
      window: WINDOW,
      channel: CHANNEL,
      throughputWarmupMs: THROUGHPUT_WARMUP_MS,
      throughputMs: THROUGHPUT_MS,
      serverLimits: LIMITS,
    },
    method:
      'loopback 127.0.0.1, client and server in this one process; each case: a fresh server (Volley: only that transport, ' +
      'rate limits raised) and client; RTT: sequential 32-byte raw-bytes echoes on reliable-ordered, send() to the echo ' +
      'handler, after a warm-up and a global.gc(); throughput: up to `window` echoes outstanding, topped up on each echo, counted over ' +
      '`throughputMs` after `throughputWarmupMs` and a global.gc(); every echo checked exactly-once in order; ratios are volley / bare ws',
    seconds: (performance.now() - start) / 1000,
    baseline,
    cases,
    fetchReference: fetchRef,
  };
}

/** The stderr table: one row per case, with the ratios to the baseline. */
export function transportsTable(r: TransportsBenchResult): string {
  const head = [
    'case',
    'connect ms',
    'RTT med µs',
    'p99 µs',
    'echoes',
    'RTT ×ws',
    'p99 ×ws',
    'GCs/ms',
    'msg/s',
    'msg/s ×ws',
    'pkts/msg',
    'GC %',
    'retx',
  ];
  const f = (x: number | null | undefined, d: number): string => (x === null || x === undefined ? '-' : x.toFixed(d));
  const body = [r.baseline, ...r.cases].map((c) => [
    c.name + (c.error ? ' (FAILED)' : '') + (c.rtt?.capped ? ' (RTT CAPPED)' : ''),
    f(c.connectMs, 1),
    f(c.rtt?.medianUs, 1),
    f(c.rtt?.p99Us, 1),
    c.rtt ? String(c.rtt.echoes) : '-',
    f(c.rttMedianRatioToBaseline, 2),
    f(c.rttP99RatioToBaseline, 2),
    c.rtt ? `${c.rtt.gcs}/${c.rtt.gcMs.toFixed(1)}` : '-',
    c.throughput ? Math.round(c.throughput.messagesPerSecond).toLocaleString('en-US') : '-',
    f(c.throughputRatioToBaseline, 3),
    f(c.throughput?.packetsSentPerMessage, 3),
    c.throughput ? (c.throughput.gcMs / 10 / c.throughput.seconds).toFixed(0) : '-',
    c.throughput?.retransmissions === undefined ? '-' : String(c.throughput.retransmissions),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(head), ...body.map(line)];
  lines.push(
    `RTT: ${r.config.rttEchoes} sequential echoes after ${r.config.rttWarmup} (or ${r.config.rttWarmupMs} ms: ` +
      `${[r.baseline, ...r.cases].map((c) => c.rtt?.warmup ?? '-').join('/')}); GCs/ms: collections in them and their pause. ` +
      `msg/s: ${r.config.channel}, ${r.config.window} outstanding, ${r.config.throughputMs / 1000} s; ` +
      "pkts/msg: Volley datagrams sent per message (a tick's sends share one), the bare ws sends a frame per message; " +
      'GC %: of the msg/s span in GC pauses; retx: reliable messages resent (UDP/WebRTC).',
  );
  for (const c of [r.baseline, ...r.cases]) if (c.error) lines.push(`${c.name}: ${c.error}`);
  for (const c of r.cases) {
    for (const h of c.http ?? []) {
      lines.push(
        `${c.name}, ${h.phase}: ${h.getsPerMessage} GET + ${h.postsPerMessage} POST per message; ` +
          `mean fetch() to headers: GET ${h.meanGetUs} µs (held until data), POST ${h.meanPostUs} µs`,
      );
    }
  }
  const ref = r.fetchReference;
  lines.push(
    ref.rtt
      ? `${ref.name}: median ${ref.rtt.medianUs.toFixed(1)} µs, p99 ${ref.rtt.p99Us.toFixed(1)} µs (${ref.rtt.echoes} sequential)`
      : `${ref.name}: FAILED: ${ref.error ?? 'no result'}`,
  );
  return lines.join('\n');
}
