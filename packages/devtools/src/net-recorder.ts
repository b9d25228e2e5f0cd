/**
 * What the net graph shows, recorded as it happens: every packet of the session from the protocol's own
 * trace (give `recorder.trace` to the client: `connect(url, { protocol: { trace: recorder.trace } })` — a
 * trace of this session only, kept across transport changes), and the session's stats sampled 10 times a
 * second. Kept in rings (the last `seconds`), so memory is fixed and recording allocates per event only
 * what the trace itself made. `report()` is the last 10 s as JSON, for a bug report.
 */

import type { ConnectionStats, TraceEvent, TraceListener } from '@volley/protocol';
import { RingBuffer } from './ring-buffer.js';

/** What a Volley client offers the recorder (a `Client` from @volley/client is one). */
export interface NetSource {
  readonly transport: string;
  readonly failures?: readonly { transport: string; reason: string }[];
  stats(): ConnectionStats;
}

/** Bandwidth kinds: what a packet mostly carried, by channel kind (state on reliable channels, inputs on unreliable ones). */
export type PacketKind = 'reliable' | 'unreliable' | 'acks' | 'control';
const KINDS: readonly PacketKind[] = ['reliable', 'unreliable', 'acks', 'control'];

export interface NetRecorderOptions {
  /** How much history is kept, s (default 10). */
  seconds?: number;
  /** Which channels are unreliable (by index), to tell inputs from state (default: 2 and 3, the standard layout's). */
  unreliableChannels?: readonly number[];
}

/** Samples of the session's stats, one ring per figure. */
export class StatSeries {
  readonly t: RingBuffer;
  readonly rtt: RingBuffer;
  readonly jitter: RingBuffer;
  readonly lossUp: RingBuffer;
  readonly lossDown: RingBuffer;
  readonly bytesIn: RingBuffer;
  readonly bytesOut: RingBuffer;
  readonly packetsIn: RingBuffer;
  readonly packetsOut: RingBuffer;
  readonly retransmissions: RingBuffer;
  readonly pendingReliable: RingBuffer;
  constructor(n: number) {
    this.t = new RingBuffer(n);
    this.rtt = new RingBuffer(n);
    this.jitter = new RingBuffer(n);
    this.lossUp = new RingBuffer(n);
    this.lossDown = new RingBuffer(n);
    this.bytesIn = new RingBuffer(n);
    this.bytesOut = new RingBuffer(n);
    this.packetsIn = new RingBuffer(n);
    this.packetsOut = new RingBuffer(n);
    this.retransmissions = new RingBuffer(n);
    this.pendingReliable = new RingBuffer(n);
  }
}

export class NetRecorder {
  /** Per acknowledged packet: when it was sent and its round trip (ms); lost ones have rtt −1. */
  readonly packetTime: RingBuffer;
  readonly packetRtt: RingBuffer;
  /** Bytes sent and received per kind over the last second, and the last second's totals. */
  readonly bytesByKind: Record<PacketKind, number> = { reliable: 0, unreliable: 0, acks: 0, control: 0 };
  readonly stats: StatSeries;
  /** The trace listener to pass to the client (protocol.trace). */
  readonly trace: TraceListener;
  latest: ConnectionStats | undefined;
  private readonly sent = new Map<number, number>();
  private readonly unreliable: ReadonlySet<number>;
  private readonly windowBytes: Record<PacketKind, number> = { reliable: 0, unreliable: 0, acks: 0, control: 0 };
  private windowStart = 0;
  private source: NetSource | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly sampleEvery = 100;

  constructor(options: NetRecorderOptions = {}) {
    const seconds = options.seconds ?? 10;
    this.packetTime = new RingBuffer(Math.max(16, seconds * 200));
    this.packetRtt = new RingBuffer(Math.max(16, seconds * 200));
    this.stats = new StatSeries(Math.max(2, seconds * (1000 / this.sampleEvery)));
    this.unreliable = new Set(options.unreliableChannels ?? [2, 3]);
    this.trace = (e) => this.onTrace(e);
  }

  /** Starts sampling `source`'s stats 10 times a second (call once connected). */
  attach(source: NetSource): void {
    this.source = source;
    clearInterval(this.timer);
    this.timer = setInterval(() => this.sample(performance.now()), this.sampleEvery);
  }

  detach(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  get transport(): string {
    return this.source?.transport ?? '-';
  }

  get failures(): readonly { transport: string; reason: string }[] {
    return this.source?.failures ?? [];
  }

  /** Takes one sample of the stats now (the timer does it; tests call it). */
  sample(now: number): void {
    if (!this.source) return;
    let s: ConnectionStats;
    try {
      s = this.source.stats();
    } catch {
      return; // not connected (any more)
    }
    this.latest = s;
    const st = this.stats;
    st.t.push(now);
    st.rtt.push(s.rtt.smoothed);
    st.jitter.push(s.jitter);
    st.lossUp.push(s.lossUp);
    st.lossDown.push(s.lossDown);
    st.bytesIn.push(s.bytesReceivedPerSecond);
    st.bytesOut.push(s.bytesSentPerSecond);
    st.packetsIn.push(s.packetsReceivedPerSecond);
    st.packetsOut.push(s.packetsSentPerSecond);
    st.retransmissions.push(s.retransmissions);
    st.pendingReliable.push(s.pendingReliableBytes);
  }

  private kind(records: readonly { channel: number }[]): PacketKind {
    if (records.length === 0) return 'acks';
    return records.some((r) => !this.unreliable.has(r.channel)) ? 'reliable' : 'unreliable';
  }

  private count(t: number, kind: PacketKind, size: number): void {
    if (t - this.windowStart >= 1000) {
      for (const k of KINDS) {
        this.bytesByKind[k] = this.windowBytes[k];
        this.windowBytes[k] = 0;
      }
      this.windowStart = t;
    }
    this.windowBytes[kind] += size;
  }

  private onTrace(e: TraceEvent): void {
    switch (e.type) {
      case 'packet-sent':
        this.sent.set(e.seq, e.t);
        if (this.sent.size > 4096) this.sent.delete(this.sent.keys().next().value!);
        this.count(e.t, this.kind(e.records), e.size);
        return;
      case 'packet-received':
        this.count(e.t, this.kind(e.records), e.size);
        return;
      case 'control-sent':
      case 'control-received':
        this.count(e.t, 'control', e.size);
        return;
      case 'packet-acked':
        this.packetTime.push(this.sent.get(e.seq) ?? e.t - e.rtt);
        this.packetRtt.push(e.rtt);
        this.sent.delete(e.seq);
        return;
      case 'packet-lost':
        this.packetTime.push(this.sent.get(e.seq) ?? e.t);
        this.packetRtt.push(-1);
        this.sent.delete(e.seq);
        return;
      default:
    }
  }

  /** The last `seconds` (at most what is kept) as a plain object: for "copy report". */
  report(seconds = 10): Record<string, unknown> {
    const st = this.stats;
    const from = (st.t.last || 0) - seconds * 1000;
    const series = (r: RingBuffer) => {
      const out: number[] = [];
      for (let i = 0; i < r.size; i++) if (st.t.at(i) >= from) out.push(Math.round(r.at(i) * 100) / 100);
      return out;
    };
    const packets: [number, number][] = [];
    for (let i = 0; i < this.packetTime.size; i++) {
      if (this.packetTime.at(i) >= from) packets.push([Math.round(this.packetTime.at(i)), Math.round(this.packetRtt.at(i) * 10) / 10]);
    }
    return {
      transport: this.transport,
      failures: this.failures,
      sampledEveryMs: this.sampleEvery,
      rtt: series(st.rtt),
      jitter: series(st.jitter),
      lossUp: series(st.lossUp),
      lossDown: series(st.lossDown),
      bytesInPerSecond: series(st.bytesIn),
      bytesOutPerSecond: series(st.bytesOut),
      retransmissions: series(st.retransmissions),
      bytesByKindLastSecond: { ...this.bytesByKind },
      packets: { fields: ['sentAt', 'rttOrMinus1IfLost'], rows: packets },
      latest: this.latest,
    };
  }
}
