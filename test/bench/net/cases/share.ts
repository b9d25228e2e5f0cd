/**
 * Case 1c: a Volley upload (raw UDP) and a bare-TCP upload started together through one bottleneck (one
 * relay process; both relays use the same two links, so they share one queue and one rate). Each flow's
 * payload Mbit/s over the window after SHARE_WARMUP_MS, Volley's share of the two, a per-second timeline,
 * and what the bottleneck did to each flow.
 */

import { performance } from 'node:perf_hooks';
import type { Client } from '@volley/client';
import type { Server } from '@volley/server';
import { bottleneckFigures, mbps, ratio, round } from '../figures.js';
import { KernelLoss } from '../kernel-loss.js';
import { BOTTLENECK, SHARE_MS, SHARE_WARMUP_MS, UPLOAD_CHANNELS } from '../net-config.js';
import type { ShareCase } from '../net-result.js';
import { RelayProcess } from '../relay-control.js';
import type { FlowStats, RelayStats } from '../relay-protocol.js';
import { TcpSink, TcpUpload } from '../tcp-upload.js';
import { connectUdpViaRelay, startVolleyServer, volleyFigures } from '../volley-peer.js';
import { VolleyUpload } from '../volley-upload.js';
import { cleanup, message, sleep } from '../waits.js';

/** Larger than either flow can move in SHARE_MS: both are still sending when the window closes. */
const ENDLESS = 1e9;
const VOLLEY = 'volley-udp';
const TCP = 'tcp';

/** The counters of `flow` between two readings. */
function delta(a: FlowStats | undefined, b: FlowStats | undefined): FlowStats | undefined {
  if (!b) return undefined;
  return {
    packets: b.packets - (a?.packets ?? 0),
    bytes: b.bytes - (a?.bytes ?? 0),
    dropped: b.dropped - (a?.dropped ?? 0),
    droppedBytes: b.droppedBytes - (a?.droppedBytes ?? 0),
    stalls: b.stalls - (a?.stalls ?? 0),
    queueDelay: b.queueDelay, // a distribution cannot be subtracted: the whole run's
  };
}

export async function shareCase(): Promise<ShareCase> {
  const result: ShareCase = {
    windowSeconds: (SHARE_MS - SHARE_WARMUP_MS) / 1000,
    warmupSeconds: SHARE_WARMUP_MS / 1000,
    volley: null,
    tcp: null,
    volleyShare: null,
    utilisation: null,
    relayLateness: null,
    timeline: [],
  };
  let server: Server | undefined;
  let sink: TcpSink | undefined;
  let relay: RelayProcess | undefined;
  let client: Client | undefined;
  let tcp: TcpUpload | undefined;
  let volley: VolleyUpload | undefined;
  let table: KernelLoss | undefined;
  try {
    server = await startVolleyServer(['udp'], UPLOAD_CHANNELS);
    const udpPort = server.address().udpPort;
    if (udpPort === undefined) throw new Error('the server has no UDP port');
    const s = (sink = await TcpSink.open());
    relay = await RelayProcess.start({
      links: { up: BOTTLENECK, down: BOTTLENECK },
      relays: [
        { name: VOLLEY, kind: 'udp', targetPort: udpPort, up: 'up', down: 'down' },
        { name: TCP, kind: 'tcp', targetPort: s.port, up: 'up', down: 'down' },
      ],
    });
    client = await connectUdpViaRelay(server, relay.port(VOLLEY), UPLOAD_CHANNELS);
    const t = (tcp = await TcpUpload.open(relay.port(TCP), ENDLESS));
    table = await KernelLoss.install(
      [
        { name: VOLLEY, proto: 'udp', port: relay.port(VOLLEY) },
        { name: TCP, proto: 'tcp', port: relay.port(TCP) },
      ],
      0,
    );
    const v = (volley = new VolleyUpload(client, server, ENDLESS));
    const start = performance.now();
    v.start();
    t.start();
    let atWarmup: { v: number; t: number; at: number; stats: RelayStats } | undefined;
    let last = { v: 0, t: 0 };
    for (let second = 1; second <= SHARE_MS / 1000; second++) {
      await sleep(Math.max(0, start + second * 1000 - performance.now()));
      const now = { v: v.deliveredBytes, t: s.deliveredBytes };
      result.timeline.push({ second, volleyMbps: mbps(now.v - last.v, 1), tcpMbps: mbps(now.t - last.t, 1) });
      last = now;
      if (second * 1000 === SHARE_WARMUP_MS) atWarmup = { ...now, at: performance.now(), stats: await relay.stats() };
      if (v.error) throw new Error(`volley upload: ${v.error}`);
    }
    const end = { v: v.deliveredBytes, t: s.deliveredBytes, at: performance.now() };
    const stats = await relay.stats();
    const counters = await table.read();
    v.stop();
    t.stop();
    if (!atWarmup) throw new Error('the window never started');
    const seconds = (end.at - atWarmup.at) / 1000;
    const vFlow = delta(atWarmup.stats.links['up']?.flows[VOLLEY], stats.links['up']?.flows[VOLLEY]);
    const tFlow = delta(atWarmup.stats.links['up']?.flows[TCP], stats.links['up']?.flows[TCP]);
    result.volley = {
      name: 'volley udp',
      mbps: mbps(end.v - atWarmup.v, seconds),
      wirePerPayload: ratio(counters[VOLLEY]?.up.bytes, end.v),
      bottleneck: bottleneckFigures(vFlow),
      volley: volleyFigures(client),
    };
    result.tcp = {
      name: 'bare tcp',
      mbps: mbps(end.t - atWarmup.t, seconds),
      wirePerPayload: ratio(counters[TCP]?.up.bytes, end.t),
      bottleneck: bottleneckFigures(tFlow),
    };
    result.relayLateness = stats.links['up']?.lateness ?? null;
    result.volleyShare = ratio(result.volley.mbps, result.volley.mbps + result.tcp.mbps);
    result.utilisation = round((result.volley.mbps + result.tcp.mbps) / (BOTTLENECK.rateBitsPerSecond! / 1e6), 3);
  } catch (e) {
    result.error = message(e);
  } finally {
    const errors = await cleanup([
      () => volley?.stop(),
      () => tcp?.close(),
      () => table?.remove(),
      () => client?.close(),
      () => volley?.dispose(),
      () => server?.close(),
      () => sink?.close(),
      () => relay?.stop(),
    ]);
    if (errors.length) result.error ??= `cleanup: ${errors.join('; ')}`;
  }
  return result;
}
