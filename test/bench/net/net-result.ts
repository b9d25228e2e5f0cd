/** The network benchmark's result: figures and ratios only, JSON-serialisable (no Infinity, no NaN). */

import type { LatencySummary } from './latency.js';
import type { ProbeFigures } from './probe.js';
import type { LinkSpec } from './relay-protocol.js';
import type { VolleyFigures } from './volley-peer.js';

/** What the kernel counted on the relay's client-facing port (nftables, prerouting): up = to it, down = from it. */
export interface WireFigures {
  upPackets: number;
  upBytes: number;
  downPackets: number;
  downBytes: number;
  /** Packets the loss rules dropped, each way. */
  upDropped: number;
  downDropped: number;
}

/** What the emulated bottleneck saw of one flow, client → server. */
export interface BottleneckFigures {
  packets: number;
  bytes: number;
  /** Tail drops (always 0 for TCP: the relay waits for room instead). */
  dropped: number;
  dropRate: number;
  /** TCP: times the relay stopped reading the sender (queue full). */
  stalls: number;
  /** Arrival to the last bit leaving the link: the queue this flow waited behind, plus its own serialization. */
  queueDelay: LatencySummary | null;
}

export interface UploadRun {
  name: string;
  payloadBytes: number;
  deliveredBytes: number;
  /** First send to the last payload byte arriving at the server; null if it did not all arrive. */
  seconds: number | null;
  goodputMbps: number | null;
  /** Upload IP bytes (client → relay) ÷ payload; and both ways (acks included) ÷ payload. In 1b the stream's packets count too. */
  wirePerPayload: number | null;
  wireBothWaysPerPayload: number | null;
  wire: WireFigures | null;
  bottleneck: BottleneckFigures | null;
  /** Delivered in order (Volley: checked per message; TCP: a byte stream). */
  inOrder: boolean;
  /** Case 1b: the 60 Hz probe stream beside the upload. */
  stream?: ProbeFigures;
  /**
   * TCP: bytes written by the sender and not yet arrived at the sink, sampled every 100 ms (Node's buffer, the
   * kernel's buffers on the loopback hop, the relay and the link): what a probe written now waits behind.
   */
  senderBacklogBytes?: { p50: number; max: number };
  /** How late the relay's timers delivered on the upload link, ms (the emulation's own error). */
  relayLateness: LatencySummary | null;
  volley?: VolleyFigures;
  error?: string;
}

export interface UploadCase {
  volley: UploadRun;
  tcp: UploadRun;
  /** volley ÷ tcp (goodput: below 1 is slower; wire: above 1 is more bytes per payload byte). */
  goodputRatio: number | null;
  wireRatio: number | null;
}

export interface StreamCase extends UploadCase {
  /** The path's one-way propagation delay, ms (a probe packet's serialization adds about 0.5 ms). */
  baseMs: number;
  volleyP50OverBase: number | null;
  volleyP99OverBase: number | null;
  tcpP50OverBase: number | null;
  tcpP99OverBase: number | null;
  /** volley ÷ tcp. */
  p50Ratio: number | null;
  p99Ratio: number | null;
}

export interface ShareFlow {
  name: string;
  /** Payload delivered in the measured window, Mbit/s. */
  mbps: number;
  /** The whole run (warm-up included): upload IP bytes (kernel-counted) ÷ payload delivered. */
  wirePerPayload: number | null;
  bottleneck: BottleneckFigures | null;
  volley?: VolleyFigures;
}

export interface ShareCase {
  windowSeconds: number;
  warmupSeconds: number;
  volley: ShareFlow | null;
  tcp: ShareFlow | null;
  /** volley ÷ (volley + tcp) over the window. */
  volleyShare: number | null;
  /** (volley + tcp) payload ÷ the link rate. */
  utilisation: number | null;
  /** How late the relay's timers delivered on the shared upload link, ms. */
  relayLateness: LatencySummary | null;
  /** Per second from the start: each flow's payload Mbit/s. */
  timeline: { second: number; volleyMbps: number; tcpMbps: number }[];
  error?: string;
}

export interface LossPeer {
  name: string;
  probe: ProbeFigures | null;
  wire: WireFigures | null;
  /** IP packets and bytes both ways (kernel-counted, dropped ones included: they were sent) per message sent. */
  ipPacketsPerMessage: number | null;
  ipBytesPerMessage: number | null;
  /** This peer ÷ bare ws at the same loss (above 1 is slower / more bytes). */
  p50RatioToWs: number | null;
  p99RatioToWs: number | null;
  maxRatioToWs: number | null;
  bytesRatioToWs: number | null;
  /**
   * Messages still not delivered DRAIN_MS after the stream stopped. Then the latency figures cover only what
   * arrived: they are lower bounds (so are ratios to them).
   */
  undelivered: number;
  volley?: VolleyFigures;
  /** Set when the peer failed or was skipped (then its figures are partial or null). */
  error?: string;
}

export interface LossLevel {
  lossPercent: number;
  seconds: number;
  peers: LossPeer[];
  /** How late the relay's timers delivered, each way, ms (the emulation's own error). */
  relayLateness: { up: LatencySummary | null; down: LatencySummary | null };
  error?: string;
}

export interface NetBenchResult {
  config: {
    bottleneck: LinkSpec;
    uploadBytes: number;
    uploadMessageBytes: number;
    streamHz: number;
    probeBytes: number;
    shareSeconds: number;
    shareWarmupSeconds: number;
    lossPath: LinkSpec;
    lossPercents: number[];
    lossStreamSeconds: number;
    drainSeconds: number;
    kcp: string;
  };
  method: Record<string, string>;
  seconds: number;
  upload: UploadCase | null;
  stream: StreamCase | null;
  share: ShareCase | null;
  loss: LossLevel[];
  /** Why a case or a peer has no figures, and other things a reader must know about this run. */
  notes: string[];
  /** Checked at the end: the nftables table is gone. */
  tableLeftBehind: boolean;
}
