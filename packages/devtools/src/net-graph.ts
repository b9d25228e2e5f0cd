/**
 * A net graph for any browser game, in the spirit of Valve's net_graph: a small panel over the page, drawn
 * 12 times a second from a NetRecorder. Level 0 hides it; 1 is one line (transport, RTT, loss, bandwidth);
 * 2 adds the figures (RTT percentiles, jitter, loss each way, packets, retransmissions, the reliable queue,
 * the server's clock, why earlier transports failed, and any line the game adds: interpolation, prediction,
 * tick health); 3 adds graphs: each packet's round trip (lost ones marked red), bandwidth in and out, and
 * the last second's bytes by kind. F3 (or `key`) steps through the levels, `?netgraph=N` picks one; "copy
 * report" puts the last 10 s as JSON on the clipboard. It allocates nothing per frame: it draws from rings.
 */

import type { NetRecorder, PacketKind } from './net-recorder.js';
import type { RingBuffer } from './ring-buffer.js';

export type NetGraphLevel = 0 | 1 | 2 | 3;

export interface NetGraphOptions {
  /** Where the panel goes (default document.body); it is positioned at the element's top left. */
  parent?: HTMLElement;
  /** Starting level (default: `?netgraph=N` from the page's URL, else 1). */
  level?: NetGraphLevel;
  /** Key that steps through the levels (KeyboardEvent.code, default 'F3'). */
  key?: string;
}

const WIDTH = 360;
const GRAPH_HEIGHT = 60;
const KIND_COLORS: Record<PacketKind, string> = { reliable: '#5cc8ff', unreliable: '#ffd25c', acks: '#8a94a6', control: '#c792ea' };

const kb = (bytes: number) => (Number.isFinite(bytes) ? (bytes / 1024).toFixed(1) : '-');
const ms = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(1));
const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : '-');

export class NetGraph {
  readonly element: HTMLDivElement;
  private readonly text: HTMLPreElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly button: HTMLButtonElement;
  private readonly lines: { label: string; value: () => string }[] = [];
  private levelValue: NetGraphLevel;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly onKey: (e: KeyboardEvent) => void;

  constructor(
    readonly recorder: NetRecorder,
    options: NetGraphOptions = {},
  ) {
    const fromUrl = Number(new URLSearchParams(globalThis.location?.search ?? '').get('netgraph'));
    this.levelValue =
      options.level ??
      ([0, 1, 2, 3].includes(fromUrl) && globalThis.location?.search.includes('netgraph') ? (fromUrl as NetGraphLevel) : 1);
    const el = document.createElement('div');
    el.className = 'volley-netgraph';
    Object.assign(el.style, {
      position: 'absolute',
      top: '4px',
      left: '4px',
      width: `${WIDTH}px`,
      background: 'rgba(8, 10, 14, 0.82)',
      color: '#e6edf3',
      font: '11px/1.35 ui-monospace, monospace',
      padding: '4px 6px',
      pointerEvents: 'auto',
      zIndex: '1000',
      borderRadius: '3px',
    } satisfies Partial<CSSStyleDeclaration>);
    this.text = document.createElement('pre');
    Object.assign(this.text.style, { margin: '0', whiteSpace: 'pre-wrap' });
    this.canvas = document.createElement('canvas');
    this.canvas.width = WIDTH;
    this.canvas.height = GRAPH_HEIGHT * 2 + 30;
    Object.assign(this.canvas.style, { display: 'block', marginTop: '4px' });
    this.button = document.createElement('button');
    this.button.textContent = 'copy report';
    Object.assign(this.button.style, { font: 'inherit', marginTop: '4px' });
    this.button.addEventListener('click', () => void this.copyReport());
    el.append(this.text, this.canvas, this.button);
    const parent = options.parent ?? document.body;
    if (parent !== document.body && getComputedStyle(parent).position === 'static') parent.style.position = 'relative';
    parent.appendChild(el);
    this.element = el;
    const key = options.key ?? 'F3';
    this.onKey = (e) => {
      if (e.code !== key) return;
      e.preventDefault();
      this.level = ((this.levelValue + 1) % 4) as NetGraphLevel;
    };
    addEventListener('keydown', this.onKey);
    this.apply();
    this.timer = setInterval(() => this.draw(), 1000 / 12);
  }

  get level(): NetGraphLevel {
    return this.levelValue;
  }

  set level(level: NetGraphLevel) {
    this.levelValue = level;
    this.apply();
    this.draw();
  }

  /** A line of the game's own (shown from level 2): `net.addLine('interp', () => `${delay} ms`)`. */
  addLine(label: string, value: () => string): void {
    this.lines.push({ label, value });
  }

  /** The last 10 s as JSON; also put on the clipboard when the page may. */
  async copyReport(): Promise<string> {
    const extra: Record<string, string> = {};
    for (const l of this.lines) extra[l.label] = safely(l.value);
    const json = JSON.stringify({ ...this.recorder.report(10), game: extra }, null, 1);
    await navigator.clipboard?.writeText(json).catch(() => {});
    return json;
  }

  /** Stops drawing and removes the panel. */
  destroy(): void {
    clearInterval(this.timer);
    removeEventListener('keydown', this.onKey);
    this.element.remove();
  }

  private apply(): void {
    const l = this.levelValue;
    this.element.style.display = l === 0 ? 'none' : 'block';
    this.canvas.style.display = l >= 3 ? 'block' : 'none';
    this.button.style.display = l >= 2 ? 'inline-block' : 'none';
  }

  /** Redraws now (the timer does it 12 times a second). */
  draw(): void {
    const level = this.levelValue;
    if (level === 0) return;
    const r = this.recorder;
    const s = r.latest;
    if (!s) {
      this.text.textContent = `net: ${r.transport} (no figures yet)`;
      return;
    }
    const head = `${r.transport}  rtt ${ms(s.rtt.smoothed)} ms  loss ${pct(s.lossUp)}↑ ${pct(s.lossDown)}↓  ${kb(s.bytesReceivedPerSecond)}↓ ${kb(s.bytesSentPerSecond)}↑ KB/s`;
    if (level === 1) {
      this.text.textContent = head;
      return;
    }
    const w = s.rtt.window;
    const ping = s.ping;
    const rows = [
      head,
      `rtt last ${ms(s.rtt.latest)}  min ${ms(s.rtt.min)}  p50 ${ms(w?.p50)}  p95 ${ms(w?.p95)}  p99 ${ms(w?.p99)}`,
      `jitter ${ms(s.jitter)} ms  ping rtt p50 ${ms(ping.rtt?.p50)}  pings ${ping.received}/${ping.sent}`,
      `packets ${s.packetsReceivedPerSecond.toFixed(0)}↓ ${s.packetsSentPerSecond.toFixed(0)}↑ /s  lost ${s.packetsLost}  retx ${s.retransmissions}`,
      `reliable queue ${s.pendingReliableBytes} B  in flight ${s.packetsInFlight}  malformed ${s.malformedPackets}`,
      `server clock ${ping.clockOffset === undefined ? '-' : `${ping.clockOffset >= 0 ? '+' : ''}${ping.clockOffset.toFixed(1)} ms`} (${ping.clockSamples} samples)`,
    ];
    for (const f of r.failures) rows.push(`${f.transport} failed: ${f.reason}`);
    for (const l of this.lines) rows.push(`${l.label} ${safely(l.value)}`);
    this.text.textContent = rows.join('\n');
    if (level >= 3) this.graphs();
  }

  private graphs(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const r = this.recorder;
    ctx.clearRect(0, 0, WIDTH, this.canvas.height);
    // 1. Round trip of each packet over the last 10 s: a dot per packet, lost ones as red ticks.
    const now = r.stats.t.last;
    const span = 10_000;
    let top = 50;
    for (let i = 0; i < r.packetRtt.size; i++) top = Math.max(top, r.packetRtt.at(i));
    ctx.fillStyle = '#1a212b';
    ctx.fillRect(0, 0, WIDTH, GRAPH_HEIGHT);
    for (let i = 0; i < r.packetTime.size; i++) {
      const x = WIDTH - ((now - r.packetTime.at(i)) / span) * WIDTH;
      if (x < 0) continue;
      const rtt = r.packetRtt.at(i);
      if (rtt < 0) {
        ctx.fillStyle = '#ff5c5c';
        ctx.fillRect(x, 0, 1, GRAPH_HEIGHT);
      } else {
        ctx.fillStyle = '#5cff8a';
        ctx.fillRect(x, GRAPH_HEIGHT - (rtt / top) * (GRAPH_HEIGHT - 2) - 1, 2, 2);
      }
    }
    ctx.fillStyle = '#8a94a6';
    ctx.fillText(`rtt per packet (top ${top.toFixed(0)} ms), lost red`, 4, 10);
    // 2. Bandwidth in and out per second.
    const y0 = GRAPH_HEIGHT + 4;
    ctx.fillStyle = '#1a212b';
    ctx.fillRect(0, y0, WIDTH, GRAPH_HEIGHT);
    let peak = 1024;
    for (let i = 0; i < r.stats.bytesIn.size; i++) peak = Math.max(peak, r.stats.bytesIn.at(i), r.stats.bytesOut.at(i));
    this.series(ctx, r.stats.bytesIn, peak, y0, '#5cc8ff');
    this.series(ctx, r.stats.bytesOut, peak, y0, '#ffd25c');
    ctx.fillStyle = '#8a94a6';
    ctx.fillText(`bandwidth ↓ blue ↑ yellow (top ${kb(peak)} KB/s)`, 4, y0 + 10);
    // 3. The last second's bytes by kind, as one stacked bar.
    const y1 = y0 + GRAPH_HEIGHT + 6;
    const kinds = Object.keys(r.bytesByKind) as PacketKind[];
    let total = 0;
    for (const k of kinds) total += r.bytesByKind[k];
    let x = 0;
    for (const k of kinds) {
      const w = total > 0 ? (r.bytesByKind[k] / total) * WIDTH : 0;
      ctx.fillStyle = KIND_COLORS[k];
      ctx.fillRect(x, y1, w, 8);
      x += w;
    }
    ctx.fillStyle = '#8a94a6';
    ctx.fillText(kinds.map((k) => `${k} ${kb(r.bytesByKind[k])}`).join('  ') + ' KB', 0, y1 + 19);
  }

  private series(ctx: CanvasRenderingContext2D, ring: RingBuffer, peak: number, y0: number, color: string): void {
    ctx.strokeStyle = color;
    ctx.beginPath();
    const n = ring.size;
    for (let i = 0; i < n; i++) {
      const x = (i / Math.max(1, ring.capacity - 1)) * WIDTH + (WIDTH * (ring.capacity - n)) / ring.capacity;
      const y = y0 + GRAPH_HEIGHT - (ring.at(i) / peak) * (GRAPH_HEIGHT - 2) - 1;
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
}

function safely(f: () => string): string {
  try {
    return f();
  } catch (e) {
    return `(${(e as Error).message})`;
  }
}
