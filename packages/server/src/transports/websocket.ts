/**
 * WebSocket transport: one binary WebSocket message carries one protocol datagram, both ways.
 *
 * Clients upgrade at `GET {path}` (default /volley/ws) on the shared HTTP port. The transport is reliable and
 * ordered, so the protocol runs over it without retransmission. Text frames get close code 1003, messages
 * larger than `maxDatagram` get 1009 (ws enforces it while reading, so an oversize message is never buffered).
 */

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { pathOf } from '../http-host.js';
import type { TransportContext, TransportLink, TransportServer } from '../transport.js';

export interface WebSocketTransportOptions {
  /** Upgrade path on the shared HTTP port. Default '/volley/ws'. */
  path?: string;
  /** Largest datagram accepted from a client, in bytes. Default ctx.mtu + 64. */
  maxDatagram?: number;
  /** A client whose socket holds more unsent bytes than this is closed ('client not reading'). Default 1 MiB. */
  maxBufferedBytes?: number;
}

/** Close codes the transport uses (RFC 6455). */
export const WS_CLOSE = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  tooBig: 1009,
} as const;

/** How long stop() waits for clients to answer the close handshake before cutting their sockets. */
const STOP_GRACE_MS = 1000;

export class WebSocketTransport implements TransportServer {
  readonly kind = 'websocket' as const;
  readonly path: string;
  private readonly options: WebSocketTransportOptions;
  private wss: WebSocketServer | undefined;
  /** Every socket until its 'close' event, including links already closed that are finishing the close handshake. */
  private readonly links = new Set<WebSocketLink>();
  private stopped = false;

  constructor(options: WebSocketTransportOptions = {}) {
    this.options = options;
    this.path = options.path ?? '/volley/ws';
  }

  async start(ctx: TransportContext): Promise<void> {
    const maxDatagram = this.options.maxDatagram ?? ctx.mtu + 64;
    const maxBuffered = this.options.maxBufferedBytes ?? 1 << 20;
    const wss = new WebSocketServer({ noServer: true, maxPayload: maxDatagram, clientTracking: false, perMessageDeflate: false });
    this.wss = wss;
    this.stopped = false;
    ctx.http.upgrade(this.path, (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (this.wss !== wss) return refuse(socket, 503, 'transport stopped');
      if (pathOf(req) !== this.path) return refuse(socket, 404, 'not found');
      socket.on('error', () => {}); // a reset during the handshake must not crash the process
      wss.handleUpgrade(req, socket, head, (ws) => {
        if (this.stopped) {
          ws.close(WS_CLOSE.goingAway, 'server stopping');
          return;
        }
        const link = new WebSocketLink(ws, remoteOf(req), maxDatagram, maxBuffered, () => this.links.delete(link));
        this.links.add(link);
        ctx.onLink(link);
      });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const links = [...this.links];
    this.links.clear();
    await Promise.all(links.map((l) => l.shutdown()));
    const wss = this.wss;
    this.wss = undefined;
    if (wss) await new Promise<void>((resolve) => wss.close(() => resolve()));
  }

  info(): Record<string, unknown> {
    return { path: this.path };
  }
}

class WebSocketLink implements TransportLink {
  readonly kind = 'websocket' as const;
  readonly reliable = true;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** Set once the link is over (either side); nothing is reported after that. */
  private done = false;

  constructor(
    private readonly ws: WebSocket,
    readonly remote: string,
    private readonly maxDatagram: number,
    private readonly maxBuffered: number,
    private readonly forget: () => void,
  ) {
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (this.done) return;
      if (!isBinary) return this.fail(WS_CLOSE.unsupportedData, 'binary frames only', 'text frame received (binary frames only)');
      const d = toBytes(data);
      if (d.byteLength > this.maxDatagram) {
        return this.fail(WS_CLOSE.tooBig, 'datagram too big', `datagram of ${d.byteLength} bytes exceeds ${this.maxDatagram}`);
      }
      this.onDatagram(d);
    });
    ws.on('error', (err: Error) => {
      // ws has already started closing (with 1009 for 'Max payload size exceeded', 1002 for protocol errors).
      if (this.done) return;
      this.done = true;
      this.onClose(
        /max payload/i.test(err.message) ? `message too big (max ${this.maxDatagram} bytes)` : `websocket error: ${err.message}`,
      );
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.forget();
      if (this.done) return;
      this.done = true;
      const why = reason.toString('utf8');
      this.onClose(`closed by client (code ${code}${why ? `: ${why}` : ''})`);
    });
  }

  send(datagram: Uint8Array): void {
    if (this.done || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount + datagram.byteLength > this.maxBuffered) {
      this.fail(WS_CLOSE.goingAway, 'client not reading', 'client not reading');
      return;
    }
    this.ws.send(datagram, { binary: true });
  }

  close(): void {
    if (this.done) return;
    this.done = true;
    this.ws.close(WS_CLOSE.normal, 'closed by server');
  }

  /** Server stopping: close with 1001, resolve once the socket is closed (cut after a grace period). */
  shutdown(): Promise<void> {
    this.done = true;
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED) return Promise.resolve();
    // Already closing (a close handshake in progress) or open: close(1001) is a no-op in the first case.
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => ws.terminate(), STOP_GRACE_MS);
      timer.unref();
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(WS_CLOSE.goingAway, 'server stopping');
    });
  }

  private fail(code: number, closeReason: string, reason: string): void {
    if (this.done) return;
    this.done = true;
    this.ws.close(code, closeReason);
    this.onClose(reason);
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return new Uint8Array(Buffer.concat(data));
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function remoteOf(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? 'unknown';
  return addr.includes(':') ? `[${addr}]:${req.socket.remotePort}` : `${addr}:${req.socket.remotePort}`;
}

function refuse(socket: Duplex, status: number, text: string): void {
  const body = `${text}\n`;
  socket.on('error', () => {});
  socket.end(
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Service Unavailable'}\r\n` +
      `Connection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
