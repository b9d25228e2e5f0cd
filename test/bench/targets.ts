/**
 * The end of `npm run bench`: issue 10's targets, each beside the figure this run measured and the peer it
 * is measured against, from the results the benchmarks returned. Figures and ratios only: whether a target
 * is met is printed, never asserted.
 */

import type { KcpCoreRatio, KcpCoreResult } from './kcp-core.bench.js';
import type { NetBenchResult } from './net/net.bench.js';
import type { ProtocolBenchResult } from './protocol.bench.js';
import type { RoomsBenchResult } from './rooms.bench.js';

export interface TargetRow {
  target: string;
  /** What this run measured, with its peer's figure where there is one. */
  measured: string;
  /** null when the run has no figure for it (a case skipped or failed). */
  met: boolean | null;
}

const f = (x: number, d = 2): string => x.toFixed(d);

export function targetRows(
  protocol: ProtocolBenchResult,
  kcp: KcpCoreResult,
  kcpVsVolley: KcpCoreRatio[],
  rooms: RoomsBenchResult,
  net: NetBenchResult | { error: string } | { skipped: string },
): TargetRow[] {
  const rows: TargetRow[] = [];
  const add = (target: string, value: number | null | undefined, measured: (v: number) => string, ok: (v: number) => boolean): void => {
    rows.push(
      value === null || value === undefined
        ? { target, measured: 'not measured', met: null }
        : { target, measured: measured(value), met: ok(value) },
    );
  };
  const n = 'error' in net || 'skipped' in net ? undefined : net;
  const upload = n?.upload;
  add(
    'bottleneck: upload wire ÷ payload ≤ 1.05',
    upload?.volley.wirePerPayload,
    (v) => `${f(v, 3)} (bare TCP ${upload?.tcp.wirePerPayload?.toFixed(3) ?? '-'})`,
    (v) => v <= 1.05,
  );
  add(
    'bottleneck: share against one TCP flow 40–60 %',
    n?.share?.volleyShare,
    (v) => `${f(v * 100, 1)} % (TCP through a byte relay that never backs off: see method)`,
    (v) => v >= 0.4 && v <= 0.6,
  );
  add(
    '60 Hz stream during the upload: p99 ≤ 60 ms',
    n?.stream?.volley.stream?.latency?.p99Ms,
    (v) => `${f(v, 1)} ms (bare TCP ${n?.stream?.tcp.stream?.latency?.p99Ms.toFixed(0) ?? '-'} ms)`,
    (v) => v <= 60,
  );
  for (const [pct, limit] of [
    [10, 100],
    [20, 150],
  ] as const) {
    const level = n?.loss.find((l) => l.lossPercent === pct);
    const peer = (name: string) => level?.peers.find((p) => p.name === name);
    const v = peer('volley udp');
    const copies = peer('volley udp, 2 copies');
    const k = peer('kcp fast');
    const kcpBytes = k?.ipBytesPerMessage ?? null;
    const line = (p: typeof v): string =>
      p?.probe?.latency ? `${f(p.probe.latency.p99Ms, 0)} ms, ${p.ipBytesPerMessage?.toFixed(0) ?? '-'} B` : '-';
    const both = (p: typeof v): number | null =>
      p?.probe?.latency && p.ipBytesPerMessage !== null && kcpBytes !== null ? p.probe.latency.p99Ms : null;
    const ok = (p: typeof v) => (): boolean => p!.probe!.latency!.p99Ms <= limit && p!.ipBytesPerMessage! <= kcpBytes!;
    add(`loss ${pct} %: p99 ≤ ${limit} ms with ≤ KCP's IP bytes (plain)`, both(v), () => `${line(v)} (KCP fast ${line(k)})`, ok(v));
    add(`loss ${pct} %: the same, redundancy: { copies: 2 }`, both(copies), () => `${line(copies)} (KCP fast ${line(k)})`, ok(copies));
  }
  const zero = protocol.cases.find((c) => c.loss === 0);
  const kcpZero = 'skipped' in kcp ? undefined : kcp.cases.find((c) => c.loss === 0);
  const kcpAlloc = kcpZero && !('error' in kcpZero) ? kcpZero.bytesAllocatedPerMessage : null;
  add(
    'core: ≤ 100 B allocated per message',
    zero?.bytesAllocatedPerMessage,
    (v) => `${v} B (KCP ${kcpAlloc ?? '-'} B, its C heap unseen)`,
    (v) => v <= 100,
  );
  for (const r of kcpVsVolley) {
    add(
      `core at ${f(r.loss * 100, 0)} % loss: CPU per message ≤ 0.7× KCP's (CPU time; instructions not counted here)`,
      r.cpuMicrosPerMessage,
      (v) => `${f(v)}×`,
      (v) => v <= 0.7,
    );
  }
  const most = Math.max(0, ...rooms.cases.map((c) => c.clients));
  const at = (framework: string, transport: string) =>
    rooms.cases.find((c) => c.clients === most && c.framework === framework && c.transport === transport)?.server;
  const floor = at('bare-ws', 'websocket');
  for (const transport of ['websocket', 'udp'] as const) {
    const v = at('volley', transport);
    add(
      `server (${most} clients, ${transport}): CPU per client ≤ 1.0× the bare ws server`,
      v && floor ? v.cpuMicrosPerClientSecond / floor.cpuMicrosPerClientSecond : null,
      (x) => `${f(x)}× (${f(v!.cpuMicrosPerClientSecond, 0)} vs ${f(floor!.cpuMicrosPerClientSecond, 0)} µs per client·s)`,
      (x) => x <= 1,
    );
  }
  const ws = at('volley', 'websocket');
  add(
    `server (${most} clients): Volley over WebSocket ≤ 1.05× a bare WebSocket's bytes`,
    ws && floor ? ws.bytesOutPerClientSecond / floor.bytesOutPerClientSecond : null,
    (x) => `${f(x, 3)}× (out, per client·s)`,
    (x) => x <= 1.05,
  );
  return rows;
}

export function targetsTable(rows: TargetRow[]): string {
  const w = Math.max(...rows.map((r) => r.target.length));
  return rows.map((r) => `${r.met === null ? '  ?  ' : r.met ? ' met ' : ' NOT '} ${r.target.padEnd(w)}  ${r.measured}`).join('\n');
}
