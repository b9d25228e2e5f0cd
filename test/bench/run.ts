/**
 * Benchmark entry (`npm run bench`): runs every benchmark, prints a table to stderr and one JSON
 * object to stdout. Figures only; nothing is asserted about speed.
 */

import os from 'node:os';
import { kcpCoreTable, kcpRatios, runKcpCoreBench } from './kcp-core.bench.js';
import { netBenchTable, runNetBench, type NetBenchResult } from './net/net.bench.js';
import { runProtocolBench } from './protocol.bench.js';
import { targetRows, targetsTable } from './targets.js';
import { roomsTable, runRoomsBench } from './rooms.bench.js';
import { runTransportsBench, transportsTable } from './transports.bench.js';
import { runUdpSealBench, udpSealTable } from './udp-seal.bench.js';

interface Row {
  name: string;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  ratioToBaseline?: number;
  bytesOnWirePerMessage: number;
  packets: number;
  retransmissions?: number;
  bytesAllocatedPerMessage: number | null;
  cpuMicrosPerMessage: number;
  capped: boolean;
}

function table(rows: Row[]): string {
  const head = ['case', 'messages', 'seconds', 'msg/s', 'vs base', 'wire B/msg', 'packets', 'retx', 'alloc B/msg', 'CPU µs/msg'];
  const body = rows.map((r) => [
    r.name + (r.capped ? ' (CAPPED)' : ''),
    String(r.messages),
    r.seconds.toFixed(2),
    Math.round(r.messagesPerSecond).toLocaleString('en-US'),
    (r.ratioToBaseline ?? 1).toFixed(3),
    r.bytesOnWirePerMessage.toFixed(1),
    String(r.packets),
    r.retransmissions === undefined ? '-' : String(r.retransmissions),
    r.bytesAllocatedPerMessage === null ? 'n/a' : String(r.bytesAllocatedPerMessage),
    r.cpuMicrosPerMessage.toFixed(3),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...body.map(line)].join('\n');
}

if (globalThis.gc === undefined) console.error('note: run with --expose-gc to measure allocations');
const protocol = runProtocolBench();
console.error(`\nprotocol (Node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown CPU'}):`);
console.error(table([protocol.baseline, ...protocol.cases]));
console.error(`timing: ${protocol.method}`);
console.error(`allocations: ${protocol.allocationMethod}\n`);
// KCP (reference C ikcp through node-kcp, installed outside the repository) over the same simulated link.
const kcp = runKcpCoreBench();
const kcpVsVolley = kcpRatios(kcp, protocol.cases);
console.error('KCP over the same link and harness:');
console.error(kcpCoreTable(kcp, kcpVsVolley));
if (!('skipped' in kcp)) console.error(`timing: ${kcp.method}\nallocations: ${kcp.allocationMethod}\n`);
else console.error('');
const transports = await runTransportsBench();
console.error(`transports (loopback, client and server in this process; ${transports.seconds.toFixed(1)} s):`);
console.error(transportsTable(transports));
console.error(`method: ${transports.method}\n`);
// A failed transport case is in the table and the JSON (its `error`); the exit status says so too.
if ([transports.baseline, ...transports.cases].some((c) => c.error !== undefined)) process.exitCode = 1;
const udpSeal = await runUdpSealBench();
console.error(
  `sealed UDP framing (@volley/udp, AES-256-GCM; process CPU ns per packet, in process, ${udpSeal.seconds.toFixed(1)} s${udpSeal.capped ? ', CAPPED' : ''}):`,
);
console.error(udpSealTable(udpSeal));
console.error(`timing: ${udpSeal.method}`);
console.error(`allocations: ${udpSeal.allocationMethod}`);
console.error(udpSeal.tlsSkipped === undefined ? `tls: ${udpSeal.tlsMethod}\n` : `tls: skipped (${udpSeal.tlsSkipped})\n`);
const rooms = await runRoomsBench();
console.error(`rooms against Colyseus 0.18 (a server process and a bots process per case, ${rooms.seconds.toFixed(1)} s):`);
console.error(roomsTable(rooms));
console.error(`method: ${rooms.method}\n`);
if (rooms.cases.some((c) => c.error !== undefined)) process.exitCode = 1;
// Real sockets through an emulated bottleneck and kernel loss, in a namespace of its own (needs root).
// Without root there is no namespace to run it in: skipped, said so, and not a failure of the run.
let net: NetBenchResult | { error: string } | { skipped: string };
if (process.getuid?.() !== 0) {
  net = { skipped: 'the network benchmark needs root (a network namespace of its own, nftables); run npm run bench as root' };
  console.error(`network benchmark skipped: ${net.skipped}\n`);
} else {
  try {
    net = await runNetBench();
    console.error(`network, over real sockets (${net.seconds.toFixed(1)} s):\n${netBenchTable(net)}\n`);
  } catch (e) {
    net = { error: e instanceof Error ? e.message : String(e) };
    console.error(`network benchmark failed: ${net.error}\n`);
    process.exitCode = 1;
  }
}
const targets = targetRows(protocol, kcp, kcpVsVolley, rooms, net);
console.error(`issue 10's targets, this run:\n${targetsTable(targets)}\n`);
console.log(
  JSON.stringify({
    node: process.version,
    v8: process.versions.v8,
    platform: `${process.platform}-${process.arch}`,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    execArgv: process.execArgv,
    ...protocol,
    kcp,
    kcpVsVolley,
    transports,
    udpSeal,
    rooms,
    net,
    targets,
  }),
);
