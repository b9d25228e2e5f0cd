/** The network benchmark's stderr table: one block per case, figures and ratios, then the notes. */

import type { LatencySummary } from './latency.js';
import type { NetBenchResult, UploadRun } from './net-result.js';

function grid(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

const f = (x: number | null | undefined, d = 2): string => (x === null || x === undefined ? '-' : x.toFixed(d));
const lat = (l: LatencySummary | null | undefined): string =>
  l ? `${l.p50Ms.toFixed(1)}/${l.p99Ms.toFixed(1)}/${l.maxMs.toFixed(1)}` : '-';
const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '-' : `${(x * 100).toFixed(2)} %`);

function uploadRows(runs: UploadRun[]): string[][] {
  return runs.map((r) => [
    r.name + (r.error ? ' (!)' : ''),
    f(r.goodputMbps, 3),
    f(r.seconds, 1),
    f(r.wirePerPayload, 3),
    f(r.wireBothWaysPerPayload, 3),
    r.bottleneck ? String(r.bottleneck.dropped) : '-',
    pct(r.bottleneck?.dropRate),
    r.bottleneck ? String(r.bottleneck.stalls) : '-',
    lat(r.bottleneck?.queueDelay),
    r.volley ? String(r.volley.retransmissions) : '-',
    r.inOrder ? 'yes' : 'NO',
  ]);
}

const UPLOAD_HEAD = ['run', 'Mbit/s', 's', 'wire÷pay', 'both÷pay', 'drops', 'drop %', 'stalls', 'queue ms p50/p99/max', 'retx', 'in order'];

export function netBenchTable(r: NetBenchResult): string {
  const c = r.config;
  const out: string[] = [];
  const errors: string[] = [];
  const link = `${(c.bottleneck.rateBitsPerSecond ?? 0) / 1e6} Mbit/s, ${(c.bottleneck.queueBytes ?? 0) / 1000} KB tail-drop queue, ${c.bottleneck.delayMs} ms one way`;

  out.push(`1a. ${c.uploadBytes / 1e6} MB upload through ${link}`);
  if (r.upload) {
    out.push(grid(UPLOAD_HEAD, uploadRows([r.upload.volley, r.upload.tcp])));
    out.push(`    volley ÷ tcp: goodput ×${f(r.upload.goodputRatio, 3)}, upload wire bytes per payload byte ×${f(r.upload.wireRatio, 3)}`);
    out.push(
      `    relay timer lateness ms p50/p99/max: volley ${lat(r.upload.volley.relayLateness)}, tcp ${lat(r.upload.tcp.relayLateness)}`,
    );
    for (const run of [r.upload.volley, r.upload.tcp]) if (run.error) errors.push(`1a ${run.name}: ${run.error}`);
  } else out.push('    (not run)');

  out.push(
    '',
    `1b. the same upload with a ${c.streamHz} Hz × ${c.probeBytes} B stream on the same connection (Volley: unreliable channel, priority 10)`,
  );
  if (r.stream) {
    const s = r.stream;
    out.push(grid(UPLOAD_HEAD, uploadRows([s.volley, s.tcp])));
    out.push(
      grid(
        ['stream', 'delivered/sent', 'one-way ms p50/p99/max', '÷base p50', '÷base p99'],
        [
          [
            s.volley.name,
            s.volley.stream ? `${s.volley.stream.delivered}/${s.volley.stream.sent}` : '-',
            lat(s.volley.stream?.latency),
            f(s.volleyP50OverBase),
            f(s.volleyP99OverBase),
          ],
          [
            s.tcp.name,
            s.tcp.stream ? `${s.tcp.stream.delivered}/${s.tcp.stream.sent}` : '-',
            lat(s.tcp.stream?.latency),
            f(s.tcpP50OverBase),
            f(s.tcpP99OverBase),
          ],
        ],
      ),
    );
    out.push(
      `    base ${s.baseMs} ms; volley ÷ tcp: stream p50 ×${f(s.p50Ratio, 3)}, p99 ×${f(s.p99Ratio, 3)}; upload goodput ×${f(s.goodputRatio, 3)}`,
    );
    const b = s.tcp.senderBacklogBytes;
    if (b)
      out.push(
        `    tcp: written and not yet arrived (what a probe waits behind), p50 ${(b.p50 / 1024).toFixed(0)} KiB, max ${(b.max / 1024).toFixed(0)} KiB`,
      );
    out.push(`    relay timer lateness ms p50/p99/max: volley ${lat(s.volley.relayLateness)}, tcp ${lat(s.tcp.relayLateness)}`);
    for (const run of [s.volley, s.tcp]) if (run.error) errors.push(`1b ${run.name}: ${run.error}`);
  } else out.push('    (not run)');

  out.push(
    '',
    `1c. a Volley upload and a bare-TCP upload sharing the bottleneck (${c.shareSeconds} s, the first ${c.shareWarmupSeconds} s left out)`,
  );
  if (r.share) {
    const s = r.share;
    const rows = [s.volley, s.tcp]
      .filter((x) => x !== null)
      .map((x) => [
        x.name,
        f(x.mbps, 3),
        x.bottleneck ? String(x.bottleneck.dropped) : '-',
        pct(x.bottleneck?.dropRate),
        x.bottleneck ? String(x.bottleneck.stalls) : '-',
        lat(x.bottleneck?.queueDelay),
        f(x.wirePerPayload, 3),
      ]);
    out.push(grid(['flow', 'Mbit/s', 'drops', 'drop %', 'stalls', 'queue ms p50/p99/max', 'wire÷pay'], rows));
    out.push(
      `    volley's share ${pct(s.volleyShare)}, link utilisation ${pct(s.utilisation)}, relay timer lateness ms ${lat(s.relayLateness)}`,
    );
    out.push(
      `    per second (volley/tcp Mbit/s): ${s.timeline.map((t) => `${t.volleyMbps.toFixed(2)}/${t.tcpMbps.toFixed(2)}`).join(' ')}`,
    );
    if (s.volley?.volley) {
      const cg = s.volley.volley.congestion;
      out.push(
        `    volley's model at the end: ${cg.state}, bandwidth ${f((cg.bandwidthBytesPerSecond ?? 0) / 1000, 1)} kB/s, window ${f(cg.congestionWindow, 0)} B, min RTT ${f(cg.minRttMs, 1)} ms`,
      );
    }
    if (s.error) errors.push(`1c: ${s.error}`);
  } else out.push('    (not run)');

  out.push(
    '',
    `2. loss latency: ${c.streamHz} msg/s × ${c.probeBytes} B reliable-ordered for ${c.lossStreamSeconds} s, ${c.lossPath.delayMs} ms one way, kernel loss each way`,
  );
  const rows: string[][] = [];
  const partial: string[] = [];
  for (const level of r.loss) {
    for (const p of level.peers) {
      rows.push([
        `${level.lossPercent} % ${p.name}` + (p.error ? (p.error.startsWith('skipped') ? ' (skipped)' : ' (!)') : ''),
        p.probe ? `${p.probe.delivered}/${p.probe.sent}` : '-',
        (p.undelivered > 0 ? '≥ ' : '') + lat(p.probe?.latency),
        f(p.p50RatioToWs),
        f(p.p99RatioToWs),
        f(p.maxRatioToWs),
        f(p.ipPacketsPerMessage),
        f(p.ipBytesPerMessage, 1),
        f(p.bytesRatioToWs),
        p.wire ? `${p.wire.upDropped}/${p.wire.downDropped}` : '-',
        p.volley ? String(p.volley.retransmissions) : '-',
      ]);
      if (p.error && !p.error.startsWith('skipped')) errors.push(`2 ${level.lossPercent} % ${p.name}: ${p.error}`);
      if (p.undelivered > 0) {
        partial.push(
          `${level.lossPercent} % ${p.name}: ${p.undelivered} of ${p.probe?.sent} messages not delivered ${c.drainSeconds} s after the stream ` +
            'stopped; its latency (≥) covers only what arrived, so it and the ratios to it are lower bounds',
        );
      }
    }
    if (level.error) errors.push(`2 ${level.lossPercent} %: ${level.error}`);
  }
  out.push(
    rows.length
      ? grid(
          [
            'loss, peer',
            'delivered',
            'one-way ms p50/p99/max',
            '×ws p50',
            '×ws p99',
            '×ws max',
            'IP pkt/msg',
            'IP B/msg',
            '×ws B',
            'drops up/down',
            'retx',
          ],
          rows,
        )
      : '    (not run)',
  );
  for (const p of partial) out.push(`    ${p}`);
  if (r.loss.length)
    out.push(
      `    relay timer lateness ms p50/p99/max, up: ${r.loss.map((l) => `${l.lossPercent} % ${lat(l.relayLateness.up)}`).join(', ')}`,
    );

  if (errors.length) out.push('', 'errors:', ...errors.map((e) => `  ${e}`));
  if (r.notes.length) out.push('', 'notes:', ...r.notes.map((n) => `  - ${n}`));
  out.push('', 'method:', ...Object.entries(r.method).map(([k, v]) => `  ${k}: ${v}`));
  out.push('', `${r.seconds.toFixed(1)} s; nftables table left behind: ${r.tableLeftBehind ? 'YES' : 'no'}`);
  return out.join('\n');
}
