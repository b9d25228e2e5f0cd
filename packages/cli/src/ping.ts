/**
 * `volley ping`: the round trip a game sees — client SDK → transport → server → back — in the style of
 * ping(8). Each probe is a raw message (sequence number, send time, padding) echoed by `volley serve`.
 *
 * A run ends early, with the summary of what was sent so far, when the server closes the session, when
 * the server is lost (the client's 'disconnect' event, or nothing at all heard from it for
 * `silenceTimeout`), when a send fails, or when `signal` aborts (Ctrl-C).
 */

import { connect, type Client, type TransportKind } from '@volley/client';
import { SendError } from '@volley/protocol';
import { disconnectStop, PingStop, sendStop, type StopReason } from './ping-stop.js';
import { r3, RoundTrips, type RttSummary } from './ping-stats.js';
import { SilenceWatch } from './silence-watch.js';

export interface PingOptions {
  url: string;
  transport: TransportKind | 'auto';
  count: number;
  interval: number;
  size: number;
  reliable: boolean;
  /** One line per reply. */
  onReply?: (seq: number, ms: number, client: Client) => void;
  /** A probe that could not be sent for now (the reliable window is full); it counts as lost. */
  onSkip?: (seq: number, why: string) => void;
  /** Aborting it ends the run early (Ctrl-C). */
  signal?: AbortSignal;
  /** Nothing at all from the server (replies, pings, acks) for this long, ms, ends the run: the server is gone. Default 5000. */
  silenceTimeout?: number;
}

export interface PingReport {
  url: string;
  transport: TransportKind;
  /** Why earlier transports were not used (auto mode). */
  failures: { transport: TransportKind; reason: string }[];
  /** Probes asked for (--count). */
  requested: number;
  /** Probes sent: fewer than requested when the run ended early (see `stopped`). */
  sent: number;
  received: number;
  lossPercent: number;
  rtt: RttSummary;
  /** RFC 3550 estimator over consecutive round trips, ms. */
  jitter: number;
  /** Why the run ended early; absent when every probe was sent and waited for. */
  stopped?: StopReason;
}

const HEADER = 12; // u32 sequence + f64 send time
/** Silence this long (two keepalive periods) is suspicious: the wait for stragglers goes on until the server is heard or given up on. */
const QUIET_MS = 2000;
/** How long a send that found the session closed waits for the 'disconnect' event and its reason. */
const CLOSED_GRACE_MS = 500;

export async function runPing(o: PingOptions): Promise<PingReport> {
  const client = await connect(o.url, o.transport === 'auto' ? {} : { transports: [o.transport] });
  // Failed resume attempts are added later on: the report lists why transports were passed over at connect.
  const failures = [...client.failures];
  const stop = new PingStop(o.signal);
  const rtts = new RoundTrips();
  const seen = new Set<number>();
  client.onMessage('ping', (data) => {
    const reply = parseReply(data, o.count);
    if (!reply || seen.has(reply.seq)) return;
    seen.add(reply.seq);
    rtts.add(reply.ms);
    o.onReply?.(reply.seq, reply.ms, client);
  });
  const onDisconnect = (reason: number, text: string) => stop.end(disconnectStop(reason, text));
  client.on('disconnect', onDisconnect);
  const silence = new SilenceWatch(client, o.silenceTimeout ?? 5000, stop);
  let sent: number;
  let transport: TransportKind;
  try {
    sent = await sendProbes(client, o, stop);
    // Stragglers: wait until all replied, or 2 s (at least 2× the slowest reply) after the last probe, or
    // longer while the server is quiet: until it is heard again or the silence watch gives up on it.
    const deadline = performance.now() + Math.max(2000, 2 * rtts.slowest);
    while (seen.size < sent && !stop.reason && (performance.now() < deadline || silence.silentFor >= QUIET_MS)) await stop.sleep(10);
  } finally {
    silence.dispose();
    client.off('disconnect', onDisconnect);
    transport = client.transport;
    await client.close();
  }
  return {
    url: o.url,
    transport,
    failures,
    requested: o.count,
    sent,
    received: seen.size,
    lossPercent: sent ? r3((100 * (sent - seen.size)) / sent) : 0,
    rtt: rtts.summary(),
    jitter: rtts.jitter,
    ...(stop.reason ? { stopped: stop.reason } : {}),
  };
}

/** Sends the probes, `interval` apart, until all are sent or the run ends; returns how many were sent. */
async function sendProbes(client: Client, o: PingOptions, stop: PingStop): Promise<number> {
  const size = Math.max(HEADER, o.size);
  const channel = o.reliable ? 'reliable-ordered' : 'unreliable';
  let sent = 0;
  while (sent < o.count && !stop.reason) {
    const probe = new Uint8Array(size);
    const v = new DataView(probe.buffer);
    v.setUint32(0, sent);
    v.setFloat64(4, performance.now());
    try {
      client.send('ping', probe, { channel });
    } catch (e) {
      if (!(e instanceof SendError)) throw e;
      if (e.code !== 'backpressure') {
        // The client's 'disconnect' event, which says why, may come just after the session is found closed.
        if (e.code === 'closed') await stop.sleep(CLOSED_GRACE_MS);
        stop.end(sendStop(e, size));
        break;
      }
      o.onSkip?.(sent, e.message);
    }
    sent++;
    if (sent < o.count) await stop.sleep(o.interval);
  }
  return sent;
}

function parseReply(data: unknown, count: number): { seq: number; ms: number } | undefined {
  if (!(data instanceof Uint8Array) || data.length < HEADER) return undefined;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const seq = v.getUint32(0);
  return seq < count ? { seq, ms: performance.now() - v.getFloat64(4) } : undefined;
}

export function formatPingSummary(r: PingReport): string {
  const sent = r.sent < r.requested ? `${r.sent} of ${r.requested} probes sent` : `${r.sent} probes sent`;
  return [
    `--- ${r.url} volley ping statistics (${r.transport}) ---`,
    `${sent}, ${r.received} received, ${r.lossPercent}% loss`,
    `rtt min/avg/max/mdev = ${r.rtt.min}/${r.rtt.avg}/${r.rtt.max}/${r.rtt.mdev} ms, p50 ${r.rtt.p50} ms, p99 ${r.rtt.p99} ms, jitter ${r.jitter} ms`,
    ...r.failures.map((f) => `(${f.transport} not used: ${f.reason})`),
  ].join('\n');
}
