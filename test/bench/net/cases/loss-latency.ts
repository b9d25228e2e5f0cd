/**
 * Case 2: latency under kernel loss. 60 messages a second of 64 B, reliable and ordered, for LOSS_STREAM_MS,
 * over a path of 30 ms each way (the relay) with N % of the packets on each way dropped by nftables on the
 * prerouting hook (kernel-loss.ts), side by side in this one process: Volley over raw UDP (plain, and on a
 * channel that sends up to two copies of each message while the loss calls for them), Volley over
 * WebSocket, bare WebSocket (`ws`), and KCP in fast mode when it is installed (kcp-peer.ts). Every peer's
 * sender and receiver share this process, so one clock times the one way. Per peer: one-way latency
 * p50/p99/max, what was lost or reordered (nothing should be), and IP packets and bytes per message both
 * ways as the kernel counted them on the relay's client-facing port; ratios are to bare ws at the same loss.
 */

import { performance } from 'node:perf_hooks';
import type { Client } from '@volley/client';
import { STANDARD_CHANNELS, type ChannelOptions } from '@volley/protocol';
import type { Server } from '@volley/server';
import type { WebSocket } from 'ws';
import { ratio, round, wireFigures } from '../figures.js';
import { KcpEnd, loadKcp } from '../kcp-peer.js';
import { KernelLoss, type WatchedPort } from '../kernel-loss.js';
import { DRAIN_MS, LOSS_PATH, LOSS_SETTLE_MS, LOSS_STREAM_MS, STREAM_HZ } from '../net-config.js';
import type { LossLevel, LossPeer } from '../net-result.js';
import { probe, ProbeReceiver } from '../probe.js';
import { RelayProcess } from '../relay-control.js';
import type { RelayDef } from '../relay-protocol.js';
import { Ticker } from '../ticker.js';
import { connectUdpViaRelay, connectWebSocketViaRelay, startVolleyServer, volleyFigures } from '../volley-peer.js';
import { openWsClient, WsSink } from '../ws-peer.js';
import { cleanup, message, settlesWithin, sleep, waitUntil } from '../waits.js';

/** The standard layout, and a fifth channel: reliable-ordered with up to two copies of each small message. */
const CHANNELS: ChannelOptions[] = [...STANDARD_CHANNELS, { kind: 'reliable-ordered', redundancy: { copies: 2 } }];
const REDUNDANT_CHANNEL = CHANNELS.length - 1;
const TICKS = Math.round((LOSS_STREAM_MS / 1000) * STREAM_HZ);
export const BARE_WS = 'bare ws';

/** One peer of the case: where its traffic goes, how it sends, and what arrived. */
interface Peer {
  name: string;
  relay: string;
  proto: 'udp' | 'tcp';
  receiver: ProbeReceiver;
  send?: (data: Uint8Array) => void;
  client?: Client;
  sendErrors: number;
  error?: string;
}

export async function lossLevel(lossPercent: number): Promise<LossLevel> {
  const started = performance.now();
  const kcp = loadKcp();
  const peers: Peer[] = [
    { name: 'volley udp', relay: 'volley-udp', proto: 'udp', receiver: new ProbeReceiver(), sendErrors: 0 },
    { name: 'volley udp, 2 copies', relay: 'volley-udp-copies', proto: 'udp', receiver: new ProbeReceiver(), sendErrors: 0 },
    { name: 'volley websocket', relay: 'volley-ws', proto: 'tcp', receiver: new ProbeReceiver(), sendErrors: 0 },
    { name: BARE_WS, relay: 'ws', proto: 'tcp', receiver: new ProbeReceiver(), sendErrors: 0 },
    { name: 'kcp fast', relay: 'kcp', proto: 'udp', receiver: new ProbeReceiver(), sendErrors: 0 },
  ];
  const [volleyUdp, volleyCopies, volleyWs, bareWs, kcpPeer] = peers as [Peer, Peer, Peer, Peer, Peer];
  if ('error' in kcp) kcpPeer.error = `skipped: ${kcp.error}`;
  const level: LossLevel = { lossPercent, seconds: 0, peers: [], relayLateness: { up: null, down: null } };
  let server: Server | undefined;
  let wsSink: WsSink | undefined;
  let kcpServer: KcpEnd | undefined;
  let kcpClient: KcpEnd | undefined;
  let wsClient: WebSocket | undefined;
  let relay: RelayProcess | undefined;
  let table: KernelLoss | undefined;
  let ticker: Ticker | undefined;
  try {
    server = await startVolleyServer(['udp', 'websocket'], CHANNELS);
    server.onMessage('probe-udp', (_s, d) => void (d instanceof Uint8Array && volleyUdp.receiver.receive(d)));
    server.onMessage('probe-copies', (_s, d) => void (d instanceof Uint8Array && volleyCopies.receiver.receive(d)));
    server.onMessage('probe-ws', (_s, d) => void (d instanceof Uint8Array && volleyWs.receiver.receive(d)));
    wsSink = await WsSink.open((d) => bareWs.receiver.receive(d));
    if ('KCP' in kcp) kcpServer = await KcpEnd.open(kcp.KCP, undefined, (d) => kcpPeer.receiver.receive(d));
    const relays: RelayDef[] = [
      { name: volleyUdp.relay, kind: 'udp', targetPort: server.address().udpPort ?? 0, up: 'up', down: 'down' },
      { name: volleyCopies.relay, kind: 'udp', targetPort: server.address().udpPort ?? 0, up: 'up', down: 'down' },
      { name: volleyWs.relay, kind: 'tcp', targetPort: server.address().port, up: 'up', down: 'down' },
      { name: bareWs.relay, kind: 'tcp', targetPort: wsSink.port, up: 'up', down: 'down' },
    ];
    if (kcpServer) relays.push({ name: kcpPeer.relay, kind: 'udp', targetPort: kcpServer.port, up: 'up', down: 'down' });
    const r = (relay = await RelayProcess.start({ links: { up: LOSS_PATH, down: LOSS_PATH }, relays }));

    // Connect everyone on the lossless path first (a connect under 20 % loss measures the handshake instead).
    const opened = await Promise.allSettled([
      connectUdpViaRelay(server, r.port(volleyUdp.relay), CHANNELS),
      connectUdpViaRelay(server, r.port(volleyCopies.relay), CHANNELS),
      connectWebSocketViaRelay(r.port(volleyWs.relay), CHANNELS),
      openWsClient(r.port(bareWs.relay)),
      kcpServer && 'KCP' in kcp ? KcpEnd.open(kcp.KCP, r.port(kcpPeer.relay), () => {}) : Promise.resolve(undefined),
    ]);
    const [u, uc, w, b, k] = opened;
    if (u.status === 'fulfilled') {
      const c = (volleyUdp.client = u.value);
      volleyUdp.send = (d) => c.send('probe-udp', d, { channel: 'reliable-ordered' });
    } else volleyUdp.error = `connect: ${message(u.reason)}`;
    if (uc.status === 'fulfilled') {
      const c = (volleyCopies.client = uc.value);
      volleyCopies.send = (d) => c.send('probe-copies', d, { channel: REDUNDANT_CHANNEL });
    } else volleyCopies.error = `connect: ${message(uc.reason)}`;
    if (w.status === 'fulfilled') {
      const c = (volleyWs.client = w.value);
      volleyWs.send = (d) => c.send('probe-ws', d, { channel: 'reliable-ordered' });
    } else volleyWs.error = `connect: ${message(w.reason)}`;
    if (b.status === 'fulfilled') {
      const ws = (wsClient = b.value);
      bareWs.send = (d) => ws.send(d);
    } else bareWs.error = `connect: ${message(b.reason)}`;
    if (k.status === 'fulfilled' && k.value) {
      const end = (kcpClient = k.value);
      kcpPeer.send = (d) => end.send(d);
    } else if (k.status === 'rejected') kcpPeer.error = `open: ${message(k.reason)}`;

    const live = peers.filter((p) => p.send);
    const watched: WatchedPort[] = live.map((p) => ({ name: p.relay, proto: p.proto, port: r.port(p.relay) }));
    table = await KernelLoss.install(watched, lossPercent);
    await sleep(LOSS_SETTLE_MS);
    ticker = new Ticker(1000 / STREAM_HZ, TICKS, (i) => {
      for (const p of live) {
        try {
          p.send!(probe(i));
          p.receiver.sent++;
        } catch (e) {
          p.sendErrors++;
          p.error ??= `send: ${message(e)}`;
        }
      }
    });
    await settlesWithin(ticker.done, LOSS_STREAM_MS + 5000);
    ticker.stop();
    await waitUntil(() => live.every((p) => p.receiver.deliveredCount >= p.receiver.sent), DRAIN_MS, 5);
    const counters = await table.read();
    const relayStats = await r.stats();
    level.relayLateness = { up: relayStats.links['up']?.lateness ?? null, down: relayStats.links['down']?.lateness ?? null };
    for (const p of peers) {
      const figures = p.send ? p.receiver.figures() : null;
      const wire = p.send ? wireFigures(counters[p.relay]) : null;
      const perMessage = (x: number | undefined): number | null =>
        figures && figures.sent > 0 && x !== undefined ? round(x / figures.sent, 2) : null;
      const row: LossPeer = {
        name: p.name,
        probe: figures,
        wire,
        ipPacketsPerMessage: perMessage(wire ? wire.upPackets + wire.downPackets : undefined),
        ipBytesPerMessage: perMessage(wire ? wire.upBytes + wire.downBytes : undefined),
        p50RatioToWs: null,
        p99RatioToWs: null,
        maxRatioToWs: null,
        bytesRatioToWs: null,
        undelivered: figures ? figures.sent - figures.delivered : 0,
      };
      if (p.client) row.volley = volleyFigures(p.client);
      if (p.sendErrors) p.error = `${p.sendErrors} send errors; first: ${p.error}`;
      if (p.error) row.error = p.error;
      level.peers.push(row);
    }
    const ws = level.peers.find((p) => p.name === BARE_WS);
    for (const p of level.peers) {
      p.p50RatioToWs = ratio(p.probe?.latency?.p50Ms, ws?.probe?.latency?.p50Ms);
      p.p99RatioToWs = ratio(p.probe?.latency?.p99Ms, ws?.probe?.latency?.p99Ms);
      p.maxRatioToWs = ratio(p.probe?.latency?.maxMs, ws?.probe?.latency?.maxMs);
      p.bytesRatioToWs = ratio(p.ipBytesPerMessage, ws?.ipBytesPerMessage);
    }
  } catch (e) {
    level.error = message(e);
    if (level.peers.length === 0) {
      for (const p of peers) {
        level.peers.push({
          name: p.name,
          probe: null,
          wire: null,
          ipPacketsPerMessage: null,
          ipBytesPerMessage: null,
          p50RatioToWs: null,
          p99RatioToWs: null,
          maxRatioToWs: null,
          bytesRatioToWs: null,
          undelivered: 0,
          error: p.error ?? level.error,
        });
      }
    }
  } finally {
    const errors = await cleanup([
      () => ticker?.stop(),
      () => table?.remove(),
      () => volleyUdp.client?.close(),
      () => volleyCopies.client?.close(),
      () => volleyWs.client?.close(),
      () => wsClient?.terminate(),
      () => kcpClient?.close(),
      () => kcpServer?.close(),
      () => wsSink?.close(),
      () => server?.close(),
      () => relay?.stop(),
    ]);
    if (errors.length) level.error ??= `cleanup: ${errors.join('; ')}`;
  }
  level.seconds = round((performance.now() - started) / 1000, 1);
  return level;
}
