/**
 * `volley loadtest`: N bots, each a real @volley/client session, join a room type on a server and stay for
 * a while receiving its state (and, if asked, sending a message at a rate). It reports what the bots saw
 * (join time p50/p99, failures by reason, bytes per bot per second) and, given the server's load token,
 * what the server paid: CPU per client, its simulation's step time p50/p99, bytes per client per second —
 * from two readings of GET /volley/load, one at the start of the measured span and one at its end.
 */

import { connect, type Client, type Room } from '@volley/client';
import type { ServerLoad } from '@volley/server';

export interface LoadtestOptions {
  url: string;
  bots: number;
  /** Room type to joinOrCreate, and the options to join with. */
  room: string;
  joinOptions?: Record<string, unknown>;
  /** Measured span once every bot has joined (s). */
  seconds: number;
  transport: 'udp' | 'websocket' | 'polling';
  /** The server's loadToken, for its side of the figures. */
  token?: string;
  /** Each bot sends `{}` as this message type, `rate` times a second. */
  send?: { type: string; rate: number };
  /** Bots joining at once (default 20). */
  batch?: number;
}

export interface LoadtestReport {
  url: string;
  room: string;
  transport: string;
  bots: number;
  joined: number;
  failures: Record<string, number>;
  joinMs: { p50: number; p99: number; max: number };
  seconds: number;
  /** Averages per joined bot per second, as the bots counted them. */
  perBot: { bytesIn: number; bytesOut: number; packetsIn: number; packetsOut: number; stateChanges: number };
  /** The server's figures over the measured span (absent without a token). */
  server?: {
    clients: number;
    rooms: number;
    cpuCores: number;
    cpuMicrosPerClientSecond: number;
    bytesOutPerClientSecond: number;
    bytesInPerClientSecond: number;
    packetsOutPerClientSecond: number;
    packetsInPerClientSecond: number;
    tickMs: { p50: number | null; p99: number | null; max: number | null; samples: number };
    ticksLate: number;
    ticksDropped: number;
  };
}

interface Bot {
  client: Client;
  room: Room;
  changes: number;
  timer?: ReturnType<typeof setInterval>;
}

const JOIN_TIMEOUT_MS = 15_000;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

async function readLoad(url: string, token: string): Promise<ServerLoad> {
  const res = await fetch(new URL('/volley/load', url), { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 401) throw new Error('the server refused the load token (401)');
  if (res.status === 404) throw new Error('the server has no /volley/load: start it with a loadToken');
  if (!res.ok) throw new Error(`GET /volley/load: HTTP ${res.status}`);
  return (await res.json()) as ServerLoad;
}

function reasonOf(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof err?.code === 'string') return err.code;
  if (typeof err?.name === 'string' && err.name !== 'Error') return err.name;
  return String(err?.message ?? e).slice(0, 60);
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs the load test; `progress` hears a line now and then (joining, measuring). */
export async function runLoadtest(o: LoadtestOptions, progress: (line: string) => void = () => {}): Promise<LoadtestReport> {
  if (!Number.isInteger(o.bots) || o.bots < 1 || o.bots > 10_000) throw new RangeError(`bots must be 1..10000, got ${o.bots}`);
  if (!(o.seconds > 0) || o.seconds > 3600) throw new RangeError(`seconds must be in (0, 3600], got ${o.seconds}`);
  const batch = o.batch ?? 20;
  const bots: Bot[] = [];
  const failures: Record<string, number> = {};
  const joinMs: number[] = [];
  if (o.token) await readLoad(o.url, o.token); // a wrong token or URL fails now, before any bot
  try {
    for (let i = 0; i < o.bots; i += batch) {
      const n = Math.min(batch, o.bots - i);
      await Promise.all(
        Array.from({ length: n }, async () => {
          const t0 = performance.now();
          let client: Client | undefined;
          try {
            client = await withTimeout(connect(o.url, { transports: [o.transport] }), JOIN_TIMEOUT_MS, 'connect');
            const room = await withTimeout(client.joinOrCreate(o.room, o.joinOptions ?? {}), JOIN_TIMEOUT_MS, 'join');
            joinMs.push(performance.now() - t0);
            const bot: Bot = { client, room, changes: 0 };
            room.onStateChange(() => void bot.changes++);
            bots.push(bot);
          } catch (e) {
            failures[reasonOf(e)] = (failures[reasonOf(e)] ?? 0) + 1;
            await client?.close().catch(() => {});
          }
        }),
      );
      progress(
        `joined ${bots.length}/${o.bots}${Object.keys(failures).length ? ` (${o.bots - bots.length - (o.bots - i - n)} failed)` : ''}`,
      );
    }
    if (o.send) {
      const every = 1000 / o.send.rate;
      for (const b of bots) b.timer = setInterval(() => b.room.send(o.send!.type, {}), every);
    }
    const before = bots.map((b) => ({ stats: b.client.stats(), changes: b.changes }));
    const load0 = o.token ? await readLoad(o.url, o.token) : undefined;
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(1000, end - performance.now())));
      progress(`measuring ${((performance.now() - t0) / 1000).toFixed(0)}/${o.seconds} s with ${bots.length} bots`);
    }
    const load1 = o.token ? await readLoad(o.url, o.token) : undefined;
    const seconds = (performance.now() - t0) / 1000;
    const sum = { bytesIn: 0, bytesOut: 0, packetsIn: 0, packetsOut: 0, stateChanges: 0 };
    bots.forEach((b, i) => {
      const s0 = before[i]!.stats;
      const s1 = b.client.stats();
      sum.bytesIn += s1.bytesReceived - s0.bytesReceived;
      sum.bytesOut += s1.bytesSent - s0.bytesSent;
      sum.packetsIn += s1.packetsReceived - s0.packetsReceived;
      sum.packetsOut += s1.packetsSent - s0.packetsSent;
      sum.stateChanges += b.changes - before[i]!.changes;
    });
    const per = (v: number) => (bots.length ? v / bots.length / seconds : 0);
    const sorted = [...joinMs].sort((a, b) => a - b);
    const report: LoadtestReport = {
      url: o.url,
      room: o.room,
      transport: o.transport,
      bots: o.bots,
      joined: bots.length,
      failures,
      joinMs: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted.at(-1) ?? NaN },
      seconds,
      perBot: {
        bytesIn: per(sum.bytesIn),
        bytesOut: per(sum.bytesOut),
        packetsIn: per(sum.packetsIn),
        packetsOut: per(sum.packetsOut),
        stateChanges: per(sum.stateChanges),
      },
    };
    if (load0 && load1) {
      const span = (load1.at - load0.at) / 1000;
      const clients = Math.max(1, load1.sessions);
      const cpu = (load1.cpuMicros.user + load1.cpuMicros.system - load0.cpuMicros.user - load0.cpuMicros.system) / 1e6 / span;
      report.server = {
        clients: load1.sessions,
        rooms: load1.rooms,
        cpuCores: cpu,
        cpuMicrosPerClientSecond: (cpu * 1e6) / clients,
        bytesOutPerClientSecond: (load1.bytesOut - load0.bytesOut) / clients / span,
        bytesInPerClientSecond: (load1.bytesIn - load0.bytesIn) / clients / span,
        packetsOutPerClientSecond: (load1.packetsOut - load0.packetsOut) / clients / span,
        packetsInPerClientSecond: (load1.packetsIn - load0.packetsIn) / clients / span,
        tickMs: { p50: load1.ticks.p50, p99: load1.ticks.p99, max: load1.ticks.max, samples: load1.ticks.samples },
        ticksLate: load1.ticks.lateRuns - load0.ticks.lateRuns,
        ticksDropped: load1.ticks.dropped - load0.ticks.dropped,
      };
    }
    return report;
  } finally {
    for (const b of bots) clearInterval(b.timer);
    await Promise.all(bots.map((b) => b.client.close().catch(() => {})));
  }
}

const f = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

/** The report as a short table. */
export function formatLoadtest(r: LoadtestReport): string {
  const failed = Object.entries(r.failures);
  const lines = [
    `volley loadtest: ${r.joined}/${r.bots} bots in '${r.room}' over ${r.transport}, measured ${r.seconds.toFixed(1)} s (${r.url})`,
    `  join               p50 ${f(r.joinMs.p50, 0)} ms  p99 ${f(r.joinMs.p99, 0)} ms  max ${f(r.joinMs.max, 0)} ms`,
    `  failures           ${failed.length ? failed.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none'}`,
    `  per bot per s      in ${f(r.perBot.bytesIn, 0)} B (${f(r.perBot.packetsIn)} packets), out ${f(r.perBot.bytesOut, 0)} B (${f(r.perBot.packetsOut)} packets), ${f(r.perBot.stateChanges)} state changes`,
  ];
  const s = r.server;
  if (s) {
    lines.push(
      `  server             ${s.clients} clients in ${s.rooms} rooms, CPU ${f(s.cpuCores * 100)} % of a core = ${f(s.cpuMicrosPerClientSecond, 0)} µs per client per s`,
      `  server tick        step p50 ${f(s.tickMs.p50, 3)} ms  p99 ${f(s.tickMs.p99, 3)} ms  max ${f(s.tickMs.max, 3)} ms (last ${s.tickMs.samples} steps), ${s.ticksLate} late, ${s.ticksDropped} dropped`,
      `  server per client  out ${f(s.bytesOutPerClientSecond, 0)} B/s (${f(s.packetsOutPerClientSecond)} packets), in ${f(s.bytesInPerClientSecond, 0)} B/s (${f(s.packetsInPerClientSecond)} packets)`,
    );
  } else lines.push("  server             (no figures: pass --token with the server's loadToken)");
  return lines.join('\n');
}
