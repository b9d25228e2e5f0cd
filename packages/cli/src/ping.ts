/**
 * `volley ping`: the round trip a game sees — client SDK → transport → server → back — in the style of
 * ping(8). Each probe is a raw message (sequence number, send time, padding) echoed by `volley serve`.
 */

import { connect, type Client, type TransportKind } from '@volley/client';

export interface PingOptions {
  url: string;
  transport: TransportKind | 'auto';
  count: number;
  interval: number;
  size: number;
  reliable: boolean;
  /** One line per reply. */
  onReply?: (seq: number, ms: number, client: Client) => void;
}

export interface PingReport {
  url: string;
  transport: TransportKind;
  /** Why earlier transports were not used (auto mode). */
  failures: { transport: TransportKind; reason: string }[];
  sent: number;
  received: number;
  lossPercent: number;
  rtt: { min: number; avg: number; max: number; mdev: number; p50: number; p99: number };
  /** RFC 3550 estimator over consecutive round trips, ms. */
  jitter: number;
}

const HEADER = 12; // u32 sequence + f64 send time

export async function runPing(o: PingOptions): Promise<PingReport> {
  const client = await connect(o.url, o.transport === 'auto' ? {} : { transports: [o.transport] });
  const times: number[] = [];
  const seen = new Set<number>();
  let jitter = 0;
  let last: number | undefined;
  client.onMessage('ping', (data) => {
    if (!(data instanceof Uint8Array) || data.length < HEADER) return;
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const seq = v.getUint32(0);
    if (seen.has(seq) || seq >= o.count) return;
    seen.add(seq);
    const ms = performance.now() - v.getFloat64(4);
    times.push(ms);
    if (last !== undefined) jitter += (Math.abs(ms - last) - jitter) / 16;
    last = ms;
    o.onReply?.(seq, ms, client);
  });
  const size = Math.max(HEADER, o.size);
  const channel = o.reliable ? 'reliable-ordered' : 'unreliable';
  for (let seq = 0; seq < o.count; seq++) {
    const probe = new Uint8Array(size);
    const v = new DataView(probe.buffer);
    v.setUint32(0, seq);
    v.setFloat64(4, performance.now());
    client.send('ping', probe, { channel });
    if (seq < o.count - 1) await sleep(o.interval);
  }
  // Stragglers: wait until all replied, or 2 s (at least 2× the slowest reply) after the last probe.
  const deadline = performance.now() + Math.max(2000, 2 * Math.max(0, ...times));
  while (seen.size < o.count && performance.now() < deadline) await sleep(10);
  const transport = client.transport;
  const failures = [...client.failures];
  await client.close();
  const sorted = [...times].sort((a, b) => a - b);
  const avg = times.reduce((a, b) => a + b, 0) / (times.length || 1);
  const pct = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0);
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    url: o.url,
    transport,
    failures,
    sent: o.count,
    received: seen.size,
    lossPercent: r3((100 * (o.count - seen.size)) / o.count),
    rtt: {
      min: r3(sorted[0] ?? 0),
      avg: r3(avg),
      max: r3(sorted.at(-1) ?? 0),
      mdev: r3(Math.sqrt(times.reduce((a, t) => a + (t - avg) ** 2, 0) / (times.length || 1))),
      p50: r3(pct(50)),
      p99: r3(pct(99)),
    },
    jitter: r3(jitter),
  };
}

export function formatPingSummary(r: PingReport): string {
  return [
    `--- ${r.url} volley ping statistics (${r.transport}) ---`,
    `${r.sent} probes sent, ${r.received} received, ${r.lossPercent}% loss`,
    `rtt min/avg/max/mdev = ${r.rtt.min}/${r.rtt.avg}/${r.rtt.max}/${r.rtt.mdev} ms, p50 ${r.rtt.p50} ms, p99 ${r.rtt.p99} ms, jitter ${r.jitter} ms`,
    ...r.failures.map((f) => `(${f.transport} not used: ${f.reason})`),
  ].join('\n');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
