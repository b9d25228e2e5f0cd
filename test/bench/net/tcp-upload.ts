/**
 * The bare-TCP peer of the bottleneck cases: a node:net client that uploads through the TCP relay to a sink
 * on 127.0.0.1, in frames (kind u8, length u16 little-endian, payload) so that probe messages can share the
 * connection with the upload, as a game's inputs would share a WebSocket with a download. Upload frames
 * carry UPLOAD_FRAME_PAYLOAD bytes each and are written as fast as the socket takes them (until write()
 * returns false, then again on 'drain', so Node itself holds at most its 16 KiB high-water mark). The sink
 * counts the upload's payload (framing not included) and hands probe frames to `onProbe`.
 */

import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export const UPLOAD_FRAME_PAYLOAD = 1000;
const HEADER = 3;
const KIND_UPLOAD = 1;
const KIND_PROBE = 2;
const HOST = '127.0.0.1';
const CONNECT_TIMEOUT_MS = 10_000;

function frame(kind: number, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(HEADER + payload.length);
  b[0] = kind;
  b.writeUInt16LE(payload.length, 1);
  b.set(payload, HEADER);
  return b;
}

export class TcpSink {
  deliveredBytes = 0;
  doneAt: number | undefined;
  /** Upload payload bytes after which `doneAt` is set. */
  expect = Infinity;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly onProbe: (data: Uint8Array) => void,
  ) {
    server.on('connection', (s) => this.accept(s));
  }

  static open(onProbe: (data: Uint8Array) => void = () => {}): Promise<TcpSink> {
    const server = createServer();
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => {
        server.off('error', reject);
        resolve(new TcpSink(server, onProbe));
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private accept(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let at = 0;
      while (buf.length - at >= HEADER) {
        const len = buf.readUInt16LE(at + 1);
        if (buf.length - at < HEADER + len) break;
        const kind = buf[at];
        if (kind === KIND_UPLOAD) {
          this.deliveredBytes += len;
          if (this.deliveredBytes >= this.expect && this.doneAt === undefined) this.doneAt = performance.now();
        } else if (kind === KIND_PROBE) this.onProbe(buf.subarray(at + HEADER, at + HEADER + len));
        at += HEADER + len;
      }
      buf = buf.subarray(at);
    });
  }
}

export class TcpUpload {
  sentBytes = 0;
  startedAt = 0;
  private stopped = false;
  private readonly chunk = frame(KIND_UPLOAD, new Uint8Array(UPLOAD_FRAME_PAYLOAD).fill(0x5a));

  private constructor(
    private readonly socket: Socket,
    readonly total: number,
  ) {}

  /** Connects to 127.0.0.1:port (the relay); nothing is sent before start(). */
  static open(port: number, total: number): Promise<TcpUpload> {
    const socket = connect({ port, host: HOST, noDelay: true });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`tcp: no connection within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      const fail = (e: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(e);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        socket.on('error', () => {});
        resolve(new TcpUpload(socket, total));
      });
    });
  }

  start(): void {
    this.startedAt = performance.now();
    this.writeMore();
  }

  /** Writes one probe frame now (behind whatever the socket still holds). */
  sendProbe(data: Uint8Array): void {
    if (!this.socket.destroyed) this.socket.write(frame(KIND_PROBE, data));
  }

  /** Stops writing upload frames. */
  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.stopped = true;
    this.socket.destroy();
  }

  private writeMore(): void {
    while (!this.stopped && !this.socket.destroyed && this.sentBytes < this.total) {
      const ok = this.socket.write(this.chunk);
      this.sentBytes += UPLOAD_FRAME_PAYLOAD;
      if (!ok) {
        this.socket.once('drain', () => this.writeMore());
        return;
      }
    }
  }
}
