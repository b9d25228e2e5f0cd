/**
 * `volley sim`: a stream of messages from a client to a server over the impaired simulated link, then a
 * report of what arrived: exactly-once, order, loss, latency, overhead. Both directions are impaired.
 */

import { CHANNEL_KINDS, ConnectionPair, SendError, type ChannelKind } from '@volley/protocol';
import { simNotes } from './sim-notes.js';

export interface SimOptions {
  messages: number;
  size: number;
  rate: number;
  channel: ChannelKind;
  loss: number;
  latency: number;
  jitter: number;
  duplicate: number;
  reorder: number;
  seed: number;
  /** Called now and then with the number of messages sent so far. */
  progress?: (sent: number, delivered: number) => void;
}

export interface SimReport {
  channel: ChannelKind;
  /** Messages asked for (--messages). */
  requested: number;
  sent: number;
  delivered: number;
  duplicates: number;
  outOfOrder: number;
  /** Sent and never delivered: lost for good (an unreliable channel, or a connection that ended). */
  lost: number;
  /** Sent but not delivered yet when the simulated-time cap was reached: in flight or queued, not lost. */
  undelivered: number;
  /** Never sent: the connection never came up or ended, or the cap came first. */
  notSent: number;
  /** Whether the connection came up at all. */
  connected: boolean;
  /** Every message sent, and delivered (reliable) or given its chance to arrive (unreliable). */
  complete: boolean;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  packets: number;
  bytesOnWire: number;
  payloadBytes: number;
  retransmissions: number;
  simulatedMs: number;
  /** The run stops at this simulated time whatever is still under way, ms. */
  timeCapMs: number;
  seed: number;
  /** Why the run is not complete, one sentence each; empty when it is. */
  notes: string[];
}

/** Milliseconds, past the link's slowest delivery, after the last send during which late unreliable messages may still arrive. */
const DRAIN_MS = 3000;
/** Reliable channels get this long after the last send to deliver everything. */
const RELIABLE_DEADLINE_MS = 120_000;

export function runSim(o: SimOptions): SimReport {
  if (!CHANNEL_KINDS.includes(o.channel)) throw new RangeError(`unknown channel kind '${o.channel}'`);
  if (o.size < 4) throw new RangeError('--size must be at least 4 bytes (each message carries its number)');
  const reliable = o.channel === 'reliable-ordered' || o.channel === 'reliable-unordered';
  const ordered = o.channel === 'reliable-ordered' || o.channel === 'unreliable-sequenced';
  const channels = [{ kind: o.channel, maxMessageSize: Math.max(o.size, 1024) }];

  const deliveredAt = new Float64Array(o.messages).fill(-1);
  const sentAt = new Float64Array(o.messages).fill(-1);
  let delivered = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let newest = -1;
  let connectedAt: number | undefined;
  let ended: { reason: number; text: string; at: number } | undefined;
  let backpressured = 0;

  const { server, client, link, sim } = new ConnectionPair({
    server: { channels },
    client: { channels, nonce: o.seed >>> 0 },
    link: {
      seed: o.seed,
      conditions: { loss: o.loss, latency: o.latency, jitter: o.jitter, duplicate: o.duplicate, reorder: o.reorder },
    },
    onServerEvent: (e, now) => {
      if (e.type !== 'message') return;
      const n = new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength).getUint32(0);
      if (n >= o.messages) return;
      if (deliveredAt[n]! >= 0) {
        duplicates++;
        return;
      }
      deliveredAt[n] = now;
      delivered++;
      if (n < newest) outOfOrder++;
      else newest = n;
    },
    onClientEvent: (e, now) => {
      if (e.type === 'connected') connectedAt = now;
      else if (e.type === 'disconnected') ended ??= { reason: e.reason, text: e.text, at: now };
    },
  });

  // Senders wait for the connection, then send at the given rate; a full reliable window retries on the next tick.
  const interval = 1000 / o.rate;
  let next = 0;
  let startAt = -1;
  const payload = new Uint8Array(o.size);
  const view = new DataView(payload.buffer);
  const pump = (now: number) => {
    if (ended) return;
    if (client.state !== 'connected') {
      sim.at(now + 1, pump);
      return;
    }
    if (startAt < 0) startAt = now;
    while (next < o.messages && startAt + next * interval <= now) {
      view.setUint32(0, next);
      try {
        client.send(0, payload);
      } catch (e) {
        if (e instanceof SendError && e.code === 'backpressure') {
          backpressured++;
          break;
        }
        throw e;
      }
      sentAt[next] = startAt + next * interval;
      next++;
      if (next % 1000 === 0) o.progress?.(next, delivered);
    }
    if (next < o.messages) sim.at(Math.max(now + 1, startAt + next * interval), pump);
  };
  sim.at(0, pump);

  const drainMs = DRAIN_MS + slowestDelivery(o);
  const finished = () =>
    ended !== undefined || (next >= o.messages && (reliable ? delivered >= o.messages : sim.now >= lastSend() + drainMs));
  const lastSend = () => (next > 0 ? sentAt[next - 1]! : Infinity);
  const horizon = (o.messages / o.rate) * 1000 + RELIABLE_DEADLINE_MS + 60_000;
  const capReached = !sim.runWhile(() => !finished(), horizon);
  o.progress?.(next, delivered);

  // At the cap, a reliable message not delivered yet is still on its way; an unreliable one is if it was
  // sent within the drain time. Once the connection has ended, what did not arrive is lost.
  const undelivered = capReached && !ended ? countUnderWay(deliveredAt, sentAt, next, reliable ? -Infinity : sim.now - drainMs) : 0;
  const notes = simNotes({
    reliable,
    requested: o.messages,
    sent: next,
    undelivered,
    loss: o.loss,
    rate: o.rate,
    connectedAt,
    ended,
    capReached,
    timeCapMs: horizon,
    backpressured,
    simulatedMs: sim.now,
  });

  const latencies: number[] = [];
  for (let i = 0; i < o.messages; i++) if (deliveredAt[i]! >= 0) latencies.push(deliveredAt[i]! - sentAt[i]!);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies.length ? round(latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)]!) : 0;
  const s = client.stats();
  const r = server.stats();
  const wire = link.stats();
  return {
    channel: o.channel,
    requested: o.messages,
    sent: next,
    delivered,
    duplicates,
    outOfOrder: ordered ? outOfOrder : 0,
    lost: next - delivered - undelivered,
    undelivered,
    notSent: o.messages - next,
    connected: connectedAt !== undefined,
    complete: notes.length === 0,
    latencyMs: { p50: pct(50), p95: pct(95), p99: pct(99), max: latencies.length ? round(latencies[latencies.length - 1]!) : 0 },
    packets: s.packetsSent + r.packetsSent,
    bytesOnWire: wire['a-to-b'].bytesSent + wire['b-to-a'].bytesSent,
    payloadBytes: next * o.size,
    retransmissions: s.retransmissions + r.retransmissions,
    simulatedMs: round(sim.now),
    timeCapMs: round(horizon),
    seed: o.seed,
    notes,
  };
}

/** Messages among the first `sent` not delivered yet and sent at or after `since` (ms). */
function countUnderWay(deliveredAt: Float64Array, sentAt: Float64Array, sent: number, since: number): number {
  let n = 0;
  for (let i = 0; i < sent; i++) if (deliveredAt[i]! < 0 && sentAt[i]! >= since) n++;
  return n;
}

/** The longest the link may take to deliver a datagram, ms (latency, jitter, the reorder hold-back: see LinkSimulator). */
function slowestDelivery(o: SimOptions): number {
  return o.latency + o.jitter + (o.reorder > 0 ? Math.max(10, 2 * o.jitter, o.latency / 2) : 0);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

export function formatSim(r: SimReport): string {
  const rows: [string, string][] = [
    ['channel', r.channel],
    ['connection', r.connected ? 'came up' : 'never came up'],
    ['messages sent', r.sent < r.requested ? `${r.sent} of ${r.requested}` : String(r.sent)],
    ['delivered', `${r.delivered} (${r.sent ? ((100 * r.delivered) / r.sent).toFixed(2) : '0'} %)`],
    ['duplicates', String(r.duplicates)],
    ['out of order', String(r.outOfOrder)],
    ['lost', String(r.lost)],
    ['undelivered at time cap', r.undelivered ? `${r.undelivered} (in flight or queued, not lost)` : '0'],
    ['latency p50 / p95 / p99 / max', `${r.latencyMs.p50} / ${r.latencyMs.p95} / ${r.latencyMs.p99} / ${r.latencyMs.max} ms`],
    ['packets (both ways)', String(r.packets)],
    ['bytes on the wire', String(r.bytesOnWire)],
    [
      'payload bytes',
      `${r.payloadBytes} (overhead ${r.payloadBytes ? ((100 * (r.bytesOnWire - r.payloadBytes)) / r.payloadBytes).toFixed(1) : '0'} %)`,
    ],
    ['retransmissions', String(r.retransmissions)],
    ['simulated time', `${(r.simulatedMs / 1000).toFixed(2)} s (cap ${(r.timeCapMs / 1000).toFixed(2)} s)`],
    ['seed', String(r.seed)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return [...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`), ...r.notes.map((n) => `note: ${n}`)].join('\n');
}
