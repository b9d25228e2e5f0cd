/** `volley loadtest`'s report as text: a head line, then one row per server process and one for them all. */

import type { LoadtestReport, ProcessReport } from './loadtest.js';

const f = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

function failuresText(failures: Record<string, number>): string {
  const e = Object.entries(failures);
  return e.length ? e.map(([k, n]) => `${k} ×${n}`).join(', ') : 'none';
}

const COLUMNS = [
  ['process', 28],
  ['bots', 6],
  ['join p50/p99 ms', 17],
  ['rooms', 6],
  ['players', 8],
  ['sessions', 9],
  ['CPU µs/player·s', 16],
  ['tick p50/p99 ms', 17],
  ['out B/player·s', 15],
  ['in B/player·s', 14],
  ['updates/bot·s', 14],
] as const;

function row(cells: readonly string[]): string {
  return cells
    .map((c, i) => (i === 0 ? c.padEnd(COLUMNS[i]?.[1] ?? 0) : c.padStart(COLUMNS[i]?.[1] ?? 0)))
    .join(' ')
    .trimEnd();
}

function processRow(p: ProcessReport): string {
  const s = p.server;
  const name = p.processId ? `${p.url} (${p.processId})` : p.url;
  return row([
    name.length > COLUMNS[0][1] ? `${name.slice(0, COLUMNS[0][1] - 1)}…` : name,
    String(p.bots),
    `${f(p.joinMs.p50, 0)} / ${f(p.joinMs.p99, 0)}`,
    s ? String(s.rooms) : '-',
    s ? String(s.players) : '-',
    s ? String(s.sessions) : '-',
    s ? f(s.cpuMicrosPerPlayerSecond, 0) : '-',
    s ? `${f(s.tickMs.p50, 3)} / ${f(s.tickMs.p99, 3)}` : '-',
    s ? f(s.bytesOutPerPlayerSecond, 0) : '-',
    s ? f(s.bytesInPerPlayerSecond, 0) : '-',
    f(p.stateChangesPerBotSecond),
  ]);
}

/** The report as a short table. */
export function formatLoadtest(r: LoadtestReport): string {
  const lines = [
    `volley loadtest: ${r.joined}/${r.bots} bots joined '${r.room}' over ${r.transport}, script ${r.script}, ` +
      `${r.processes.length} server process(es), ${r.workers} worker(s), measured ${r.seconds.toFixed(1)} s`,
    row(COLUMNS.map(([name]) => name)),
    ...r.processes.map(processRow),
  ];
  const served = r.processes.filter((p) => p.server);
  if (r.processes.length > 1) {
    // The fleet per player: every process's CPU and bytes (an entry-only one's too) over every player.
    const sum = (f: (p: ProcessReport) => number) => served.reduce((n, p) => n + f(p), 0);
    const players = sum((p) => p.server!.players);
    const perPlayer = (v: number) => (players > 0 ? v / players : NaN);
    const bots = r.processes.reduce((n, p) => n + p.bots, 0);
    const updates = bots ? r.processes.reduce((n, p) => n + p.stateChangesPerBotSecond * p.bots, 0) / bots : NaN;
    lines.push(
      row([
        'all',
        String(bots),
        `${f(r.joinMs.p50, 0)} / ${f(r.joinMs.p99, 0)}`,
        served.length ? String(sum((p) => p.server!.rooms)) : '-',
        served.length ? String(players) : '-',
        served.length ? String(sum((p) => p.server!.sessions)) : '-',
        f(perPlayer(sum((p) => p.server!.cpuCores * 1e6)), 0),
        '',
        f(perPlayer(sum((p) => p.server!.bytesOutPerSecond)), 0),
        f(perPlayer(sum((p) => p.server!.bytesInPerSecond)), 0),
        f(updates),
      ]),
    );
  }
  lines.push(`failures: ${failuresText(r.failures)}${r.lost ? ` (${r.lost} of them bots that had joined and lost their room)` : ''}`);
  lines.push(`bots' CPU: ${f(r.botCpuCores * 100, 0)} % of a core over ${r.workers} worker(s)`);
  for (const p of r.processes) if (Object.keys(p.failures).length) lines.push(`  ${p.url}: ${failuresText(p.failures)}`);
  const late = served.filter((p) => p.server!.ticksLate || p.server!.ticksDropped);
  for (const p of late) lines.push(`  ${p.url}: ${p.server!.ticksLate} ticks late, ${p.server!.ticksDropped} dropped`);
  const unread = r.processes.filter((p) => p.serverError);
  if (unread.length === r.processes.length && unread.every((p) => p.serverError === 'no token'))
    lines.push("server figures: none (pass --token with the servers' loadToken)");
  else for (const p of unread) lines.push(`  ${p.url}: no server figures (${p.serverError})`);
  lines.push(
    'players: seats in its rooms; sessions: its sessions (a bot redirected here keeps its first one open where it came in).',
    'CPU and bytes are the whole process’s, per player: its sessions’ keepalives and Redis included.',
  );
  return lines.join('\n');
}
