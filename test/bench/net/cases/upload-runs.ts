/**
 * One upload through the emulated bottleneck, by Volley over raw UDP or by bare TCP, optionally with the
 * 60 Hz × 64 B probe stream on the same connection (Volley: a higher-priority unreliable channel; TCP: frames
 * interleaved with the upload's). Each run has its own server, relay process and nftables counters, and
 * stops all of them whatever happens.
 */

import type { Client } from '@volley/client';
import type { Server } from '@volley/server';
import { percentile } from '../../percentile.js';
import { bottleneckFigures, mbps, ratio, round, wireFigures } from '../figures.js';
import { KernelLoss, type PortCounters } from '../kernel-loss.js';
import { BOTTLENECK, SETTLE_MS, STREAM_HZ, UPLOAD_BYTES, UPLOAD_CHANNELS, UPLOAD_TIMEOUT_MS } from '../net-config.js';
import type { UploadRun } from '../net-result.js';
import { probe, ProbeReceiver } from '../probe.js';
import { RelayProcess } from '../relay-control.js';
import type { RelayStats } from '../relay-protocol.js';
import { TcpSink, TcpUpload } from '../tcp-upload.js';
import { Ticker } from '../ticker.js';
import { connectUdpViaRelay, startVolleyServer, volleyFigures } from '../volley-peer.js';
import { VolleyUpload } from '../volley-upload.js';
import { cleanup, message, settlesWithin, sleep, waitUntil } from '../waits.js';

const FLOW = { volley: 'volley-udp', tcp: 'tcp' } as const;
const LINKS = { up: BOTTLENECK, down: BOTTLENECK };
const BACKLOG_SAMPLE_MS = 100;
const STREAM_TICKS_MAX = Math.ceil((UPLOAD_TIMEOUT_MS / 1000) * STREAM_HZ);

function emptyRun(name: string): UploadRun {
  return {
    name,
    payloadBytes: UPLOAD_BYTES,
    deliveredBytes: 0,
    seconds: null,
    goodputMbps: null,
    wirePerPayload: null,
    wireBothWaysPerPayload: null,
    wire: null,
    bottleneck: null,
    inOrder: true,
    relayLateness: null,
  };
}

/** Fills the figures every run shares from what was counted. */
function finish(
  run: UploadRun,
  flow: string,
  delivered: number,
  startedAt: number,
  doneAt: number | undefined,
  counters: PortCounters | undefined,
  relay: RelayStats | undefined,
): void {
  run.deliveredBytes = delivered;
  if (doneAt !== undefined) {
    run.seconds = round((doneAt - startedAt) / 1000, 3);
    run.goodputMbps = mbps(delivered, run.seconds);
  } else run.error ??= `incomplete: ${delivered} of ${UPLOAD_BYTES} bytes arrived within ${UPLOAD_TIMEOUT_MS / 1000} s`;
  run.wire = wireFigures(counters);
  if (run.wire) {
    run.wirePerPayload = ratio(run.wire.upBytes, UPLOAD_BYTES, 4);
    run.wireBothWaysPerPayload = ratio(run.wire.upBytes + run.wire.downBytes, UPLOAD_BYTES, 4);
  }
  run.bottleneck = bottleneckFigures(relay?.links['up']?.flows[flow]);
  run.relayLateness = relay?.links['up']?.lateness ?? null;
}

export async function volleyUploadRun(withStream: boolean): Promise<UploadRun> {
  const run = emptyRun(withStream ? 'volley udp + 60 Hz stream' : 'volley udp');
  let server: Server | undefined;
  let relay: RelayProcess | undefined;
  let client: Client | undefined;
  let table: KernelLoss | undefined;
  let upload: VolleyUpload | undefined;
  let ticker: Ticker | undefined;
  let relayStats: RelayStats | undefined;
  const receiver = new ProbeReceiver();
  try {
    server = await startVolleyServer(['udp'], UPLOAD_CHANNELS);
    const udpPort = server.address().udpPort;
    if (udpPort === undefined) throw new Error('the server has no UDP port');
    relay = await RelayProcess.start({
      links: LINKS,
      relays: [{ name: FLOW.volley, kind: 'udp', targetPort: udpPort, up: 'up', down: 'down' }],
    });
    const port = relay.port(FLOW.volley);
    client = await connectUdpViaRelay(server, port, UPLOAD_CHANNELS);
    server.onMessage('probe', (_s, data) => void (data instanceof Uint8Array && receiver.receive(data)));
    table = await KernelLoss.install([{ name: FLOW.volley, proto: 'udp', port }], 0);
    const up = (upload = new VolleyUpload(client, server, UPLOAD_BYTES));
    up.start();
    const c = client;
    if (withStream) {
      ticker = new Ticker(1000 / STREAM_HZ, STREAM_TICKS_MAX, (i) => {
        try {
          c.send('probe', probe(i), { channel: 1 });
          receiver.sent++;
        } catch {
          // unreliable: never back-pressured; a closed client ends the run below
        }
      });
    }
    await settlesWithin(up.done, UPLOAD_TIMEOUT_MS);
    ticker?.stop();
    up.stop();
    await sleep(SETTLE_MS);
    run.inOrder = up.inOrder;
    if (up.error) run.error = up.error;
    run.volley = volleyFigures(client);
    const counters = await table.read();
    relayStats = await relay.stats();
    finish(run, FLOW.volley, up.deliveredBytes, up.startedAt, up.doneAt, counters[FLOW.volley], relayStats);
    if (withStream) run.stream = receiver.figures();
  } catch (e) {
    run.error = message(e);
  } finally {
    const errors = await cleanup([
      () => ticker?.stop(),
      () => upload?.stop(),
      () => table?.remove(),
      () => client?.close(),
      () => upload?.dispose(),
      () => server?.close(),
      () => relay?.stop(),
    ]);
    if (errors.length) run.error ??= `cleanup: ${errors.join('; ')}`;
  }
  return run;
}

export async function tcpUploadRun(withStream: boolean): Promise<UploadRun> {
  const run = emptyRun(withStream ? 'bare tcp + 60 Hz stream' : 'bare tcp');
  let sink: TcpSink | undefined;
  let relay: RelayProcess | undefined;
  let upload: TcpUpload | undefined;
  let table: KernelLoss | undefined;
  let ticker: Ticker | undefined;
  const receiver = new ProbeReceiver();
  try {
    const s = (sink = await TcpSink.open((d) => receiver.receive(d)));
    s.expect = UPLOAD_BYTES;
    relay = await RelayProcess.start({
      links: LINKS,
      relays: [{ name: FLOW.tcp, kind: 'tcp', targetPort: s.port, up: 'up', down: 'down' }],
    });
    const port = relay.port(FLOW.tcp);
    const up = (upload = await TcpUpload.open(port, UPLOAD_BYTES));
    table = await KernelLoss.install([{ name: FLOW.tcp, proto: 'tcp', port }], 0);
    up.start();
    if (withStream) {
      ticker = new Ticker(1000 / STREAM_HZ, STREAM_TICKS_MAX, (i) => {
        up.sendProbe(probe(i));
        receiver.sent++;
      });
    }
    const backlog: number[] = [];
    const sampler = setInterval(() => backlog.push(up.sentBytes - s.deliveredBytes), BACKLOG_SAMPLE_MS);
    await waitUntil(() => s.doneAt !== undefined, UPLOAD_TIMEOUT_MS, 5);
    clearInterval(sampler);
    backlog.sort((a, b) => a - b);
    if (backlog.length) run.senderBacklogBytes = { p50: percentile(backlog, 0.5), max: backlog[backlog.length - 1]! };
    ticker?.stop();
    up.stop();
    // The stream's last probes were written behind the upload's last bytes: give them the time to arrive.
    if (withStream) await waitUntil(() => receiver.deliveredCount >= receiver.sent, 5000, 5);
    await sleep(SETTLE_MS);
    const counters = await table.read();
    const relayStats = await relay.stats();
    finish(run, FLOW.tcp, s.deliveredBytes, up.startedAt, s.doneAt, counters[FLOW.tcp], relayStats);
    if (withStream) run.stream = receiver.figures();
  } catch (e) {
    run.error = message(e);
  } finally {
    const errors = await cleanup([
      () => ticker?.stop(),
      () => table?.remove(),
      () => upload?.close(),
      () => sink?.close(),
      () => relay?.stop(),
    ]);
    if (errors.length) run.error ??= `cleanup: ${errors.join('; ')}`;
  }
  return run;
}
