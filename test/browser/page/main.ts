/**
 * The browser side of test/browser/chromium.test.ts, bundled by Vite with the client built from source.
 * Exposes window.volleyTest.run(options): connects to the server that served this page (same origin),
 * exchanges messages with its echo, reads the RTT, closes, and reports what happened. Everything is timed
 * with the page's own clock and bounded: a run rejects rather than hangs.
 */

import { connect, type Client, type TransportFailure, type TransportKind } from '@volley/client';

export interface RunOptions {
  /** Forced transport order; default: the client's automatic chain (webrtc → websocket → polling). */
  transports?: TransportKind[];
  /** The client's `upgrade` option (default true: start on the first to answer, move to the best). */
  upgrade?: boolean;
  /** Stream messages from connect until well after the session is on WebRTC (across any move). */
  stream?: boolean;
  /** Sequential round trips, and the size of the burst. Default 100. */
  count?: number;
}

export interface Move {
  kind: TransportKind;
  previous: TransportKind;
  reason: string;
  /** ms since connect() was called. */
  atMs: number;
}

export interface RunResult {
  /** The transport connect() settled on. */
  transport: TransportKind;
  /** The transport at the end of the run (differs after an upgrade). */
  finalTransport: TransportKind;
  /** connect() call to resolved promise, ms (GET /volley/info, transport open, handshake). */
  connectMs: number;
  failures: TransportFailure[];
  moves: Move[];
  /** Sequential round trips: sent one at a time, each waiting for its echo. */
  sent: number;
  echoed: number;
  echoMs: { median: number; p99: number; max: number };
  /** `count` messages sent at once: how many came back, in order, and how long the lot took. */
  burst: { sent: number; echoed: number; inOrder: boolean; ms: number };
  /** With stream: messages sent every 5 ms from connect until well after the session is on WebRTC. */
  stream?: { sent: number; echoed: number; inOrder: boolean; echoedBeforeMove: number; echoedAfterMove: number; upgradeMs: number };
  /** client.rtt once a ping has measured it, ms. */
  rtt: number;
  /** The ping samples behind it. */
  ping: { count: number; min: number; max: number; last: number };
  /** Sequential round trips slower than 10 ms. */
  slowEchoes: number;
}

declare global {
  interface Window {
    volleyTest: { run(options?: RunOptions): Promise<RunResult> };
  }
}

const PAD = 'volley-'.repeat(4); // ~32 bytes of payload per message
const ECHO_TIMEOUT_MS = 2000;

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : NaN;
}

/** Polls `f` every 5 ms until it is truthy; rejects after `ms`. */
function until(what: string, f: () => boolean, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const tick = () => {
      if (f()) return resolve();
      if (performance.now() - start > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      setTimeout(tick, 5);
    };
    tick();
  });
}

/** Echoes of one message type, by index, in arrival order. */
function collector(client: Client, type: string) {
  const got: number[] = [];
  let onGot: ((i: number) => void) | undefined;
  client.onMessage(type, (data) => {
    const i = (data as { i: number }).i;
    got.push(i);
    onGot?.(i);
  });
  return {
    got,
    inOrder: () => got.every((v, k) => v === k),
    set onGot(f: ((i: number) => void) | undefined) {
      onGot = f;
    },
  };
}

async function run(options: RunOptions = {}): Promise<RunResult> {
  const count = options.count ?? 100;
  const t0 = performance.now();
  const client = await connect(location.origin, { transports: options.transports, upgrade: options.upgrade, openTimeout: 5000 });
  const connectMs = performance.now() - t0;
  const transport = client.transport;
  const moves: Move[] = [];
  client.on('transport', (kind, previous, reason) => void moves.push({ kind, previous, reason, atMs: performance.now() - t0 }));
  try {
    let stream: RunResult['stream'];
    if (options.stream) {
      // Messages flow from the start, across the move to WebRTC (if the session started elsewhere), and after it.
      const s = collector(client, 'stream');
      let before = 0;
      s.onGot = () => void (moves.length === 0 && before++);
      let sent = 0;
      const timer = setInterval(() => client.send('stream', { i: sent++, pad: PAD }), 5);
      try {
        await until('the session on WebRTC', () => client.transport === 'webrtc', 5000);
        const atMove = sent;
        await until('50 more messages sent after the move', () => sent >= atMove + 50, 2000);
      } finally {
        clearInterval(timer);
      }
      await until(`all ${sent} streamed messages echoed`, () => s.got.length >= sent, 3000);
      stream = {
        sent,
        echoed: s.got.length,
        inOrder: s.inOrder(),
        echoedBeforeMove: before,
        echoedAfterMove: s.got.length - before,
        upgradeMs: (moves[0]?.atMs ?? connectMs) - connectMs,
      };
    }

    // Sequential round trips.
    const e = collector(client, 'echo');
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const sentAt = performance.now();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`echo #${i} not back within ${ECHO_TIMEOUT_MS} ms over ${client.transport}`)),
          ECHO_TIMEOUT_MS,
        );
        e.onGot = (k) => {
          if (k !== i) return;
          clearTimeout(timer);
          resolve();
        };
        client.send('echo', { i, pad: PAD });
      });
      latencies.push(performance.now() - sentAt);
    }
    latencies.sort((a, b) => a - b);

    // A burst: everything at once, back in order.
    const b = collector(client, 'burst');
    const burstStart = performance.now();
    for (let i = 0; i < count; i++) client.send('burst', { i, pad: PAD });
    await until(`${count} burst echoes`, () => b.got.length >= count, 5000);
    const burstMs = performance.now() - burstStart;

    // A measured RTT (pings go every second; before the first, client.rtt is the initial guess).
    await until('a ping RTT', () => client.stats().ping.rtt !== undefined, 3000);
    const ping = client.stats().ping.rtt!;

    return {
      transport,
      finalTransport: client.transport,
      connectMs,
      failures: [...client.failures],
      moves,
      sent: count,
      echoed: e.got.length,
      echoMs: { median: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), max: latencies[latencies.length - 1] ?? NaN },
      burst: { sent: count, echoed: b.got.length, inOrder: b.inOrder(), ms: burstMs },
      ...(stream && { stream }),
      rtt: client.rtt,
      ping: { count: ping.count, min: ping.min, max: ping.max, last: ping.last },
      slowEchoes: latencies.filter((l) => l > 10).length,
    };
  } catch (error) {
    const failures = client.failures.map((f) => `${f.transport}: ${f.reason}`).join('; ');
    throw new Error(
      `${(error as Error).message} (transport ${client.transport}, state ${client.state}${failures ? `, failures: ${failures}` : ''})`,
      {
        cause: error,
      },
    );
  } finally {
    await client.close();
  }
}

window.volleyTest = { run };
