/**
 * What the rooms benchmark measures inside a server process, the same way for every server: process CPU,
 * bytes on its sockets (TCP payload, WebSocket framing included, from every socket of its HTTP server; UDP
 * payload and datagrams, counted at node:dgram's send and 'message'), the time between ticks, the time a
 * patch takes (from the end of the tick's mutations to the end of the microtasks the patch queued, so a
 * server that writes its packets in a microtask is charged for them), the event loop's delay, and the inputs
 * the room received. Counting is a few additions per socket call; it is on in every case alike.
 */

import dgram from 'node:dgram';
import type { Server as HttpServer } from 'node:http';
import type { Socket } from 'node:net';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { percentile } from '../percentile.js';

export interface Percentiles {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

export interface ServerFigures {
  seconds: number;
  clients: number;
  /** Process CPU (user + system) per second of wall time: 1 = one core busy. */
  cpuCores: number;
  /** Of cpuCores, the part spent in the kernel (system time: socket calls, mostly). */
  cpuSystemCores: number;
  cpuMicrosPerClientSecond: number;
  /** Clients one core could serve at this cost per client (clients / cpuCores). */
  clientsPerCore: number;
  bytesOutPerClientSecond: number;
  bytesInPerClientSecond: number;
  datagramsOutPerClientSecond: number;
  datagramsInPerClientSecond: number;
  /** Milliseconds a tick started after it was due (interval − tick length). */
  tickLateMs: Percentiles;
  /** Milliseconds from the end of a tick's mutations to the patch handed to every client (see above). */
  patchMs: Percentiles;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  inputsPerClientSecond: number;
  ticks: number;
}

export function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { p50: Number.NaN, p99: Number.NaN, max: Number.NaN, samples: 0 };
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1]!, samples: s.length };
}

let udpBytesOut = 0;
let udpBytesIn = 0;
let udpDatagramsOut = 0;
let udpDatagramsIn = 0;
let udpCounting = false;

function byteLength(message: unknown): number {
  if (Array.isArray(message)) return message.reduce((n: number, m) => n + byteLength(m), 0);
  if (typeof message === 'string') return Buffer.byteLength(message);
  return ArrayBuffer.isView(message) ? message.byteLength : 0;
}

/** Counts every datagram this process sends and receives (installed once, before any socket exists). */
function countUdp(): void {
  if (udpCounting) return;
  udpCounting = true;
  const proto = dgram.Socket.prototype as unknown as {
    send: (...args: unknown[]) => void;
    emit: (event: string | symbol, ...args: unknown[]) => boolean;
  };
  const send = proto.send;
  proto.send = function (this: unknown, ...args: unknown[]) {
    // send(msg, offset, length, port, address, cb) or send(msg, port, address, cb).
    udpBytesOut += typeof args[1] === 'number' && typeof args[2] === 'number' ? args[2] : byteLength(args[0]);
    udpDatagramsOut++;
    return send.apply(this, args);
  };
  const emit = proto.emit;
  proto.emit = function (this: unknown, event: string | symbol, ...args: unknown[]) {
    if (event === 'message') {
      udpBytesIn += byteLength(args[0]);
      udpDatagramsIn++;
    }
    return emit.call(this, event, ...args);
  };
}

export class ServerMeter {
  private readonly sockets = new Set<Socket>();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 10 });
  private measuring = false;
  private startedAt = 0;
  private cpuAt: NodeJS.CpuUsage = process.cpuUsage();
  private tcpOutAt = 0;
  private tcpInAt = 0;
  private udpAt = { out: 0, in: 0, dOut: 0, dIn: 0 };
  private lastTick: number | undefined;
  private tickLate: number[] = [];
  private patch: number[] = [];
  private mutatedAt = 0;
  private inputs = 0;
  private ticks = 0;

  constructor(
    http: HttpServer,
    private readonly tickMs: number,
    private readonly clients: () => number,
  ) {
    countUdp();
    http.on('connection', (socket: Socket) => this.sockets.add(socket));
  }

  /** A tick's mutations are done: its patch starts now. */
  mutated(): void {
    const now = performance.now();
    if (this.measuring && this.lastTick !== undefined) this.tickLate.push(now - this.lastTick - this.tickMs);
    this.lastTick = now;
    this.mutatedAt = now;
  }

  /** The patch call returned: its time ends once the microtasks it queued have run. */
  patched(): void {
    if (!this.measuring) return;
    const from = this.mutatedAt;
    queueMicrotask(() => {
      this.patch.push(performance.now() - from);
      this.ticks++;
    });
  }

  input(): void {
    if (this.measuring) this.inputs++;
  }

  private tcp(): { out: number; in: number } {
    let out = 0;
    let inn = 0;
    for (const s of this.sockets) {
      out += s.bytesWritten;
      inn += s.bytesRead;
    }
    return { out, in: inn };
  }

  start(): void {
    this.measuring = true;
    this.startedAt = performance.now();
    this.cpuAt = process.cpuUsage();
    const tcp = this.tcp();
    this.tcpOutAt = tcp.out;
    this.tcpInAt = tcp.in;
    this.udpAt = { out: udpBytesOut, in: udpBytesIn, dOut: udpDatagramsOut, dIn: udpDatagramsIn };
    this.tickLate = [];
    this.patch = [];
    this.inputs = 0;
    this.ticks = 0;
    this.loopDelay.reset();
    this.loopDelay.enable();
  }

  stop(): ServerFigures {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const cpu = process.cpuUsage(this.cpuAt);
    this.loopDelay.disable();
    this.measuring = false;
    const tcp = this.tcp();
    const clients = this.clients();
    const perClientSecond = (n: number) => n / Math.max(1, clients) / seconds;
    const cpuCores = (cpu.user + cpu.system) / 1e6 / seconds;
    return {
      seconds,
      clients,
      cpuCores,
      cpuSystemCores: cpu.system / 1e6 / seconds,
      cpuMicrosPerClientSecond: perClientSecond(cpu.user + cpu.system),
      clientsPerCore: clients / cpuCores,
      bytesOutPerClientSecond: perClientSecond(tcp.out - this.tcpOutAt + udpBytesOut - this.udpAt.out),
      bytesInPerClientSecond: perClientSecond(tcp.in - this.tcpInAt + udpBytesIn - this.udpAt.in),
      datagramsOutPerClientSecond: perClientSecond(udpDatagramsOut - this.udpAt.dOut),
      datagramsInPerClientSecond: perClientSecond(udpDatagramsIn - this.udpAt.dIn),
      tickLateMs: percentiles(this.tickLate),
      patchMs: percentiles(this.patch),
      eventLoopDelayMs: {
        p50: this.loopDelay.percentile(50) / 1e6,
        p99: this.loopDelay.percentile(99) / 1e6,
        max: this.loopDelay.max / 1e6,
      },
      inputsPerClientSecond: perClientSecond(this.inputs),
      ticks: this.ticks,
    };
  }
}
