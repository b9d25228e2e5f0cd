/**
 * A TCP relay on 127.0.0.1 (no TUN device, no packet capture: a byte relay): each client connection is
 * accepted, a connection to 127.0.0.1:targetPort is opened for it, and the bytes each way go through an
 * emulated link (client → target through `up`, back through `down`).
 *
 * What the emulated link sees: the relay cuts what it reads into segments of at most 1448 bytes (the payload
 * of a segment at MTU 1500) when the link has a rate, and charges each its length + 52 bytes (IPv4, TCP and
 * timestamp headers); without a rate a read goes through whole. The FIN goes through the link too, behind the
 * data, so a close arrives when the last byte does.
 *
 * What it cannot do, and what it does instead: bytes of a stream cannot be dropped, so a segment never meets
 * a tail drop. When the queue has no room the relay stops reading from the sender (back-pressure) until a
 * packet has left the link; the sender's kernel buffers then fill and its writes slow down. The sender's TCP
 * therefore never sees a loss at the bottleneck and never backs off: its rate is whatever the link drains,
 * and it takes every byte of room the queue frees as soon as it frees (it always has data waiting). Its
 * congestion control and loss recovery run on the loopback hop between it and the relay, whose round trip is
 * a few microseconds, not the emulated path's. The results' `method` says what this means for each figure.
 */

import { createServer, connect, type Server, type Socket } from 'node:net';
import { TCP_OVERHEAD, TCP_SEGMENT_PAYLOAD, type EmulatedLink } from './emulated-link.js';

const HOST = '127.0.0.1';
/** The relay stops reading once it holds this much it could not yet put on the link. */
const HIGH_WATER = 64 * 1024;
/** Client connections one relay serves at most. */
const MAX_CONNECTIONS = 64;

/** One direction of one relayed connection: reads `src`, offers to `link`, writes to `dst` on arrival. */
class Pump {
  /** Segments read, not yet on the link; null is the FIN. */
  private readonly pending: (Buffer | null)[] = [];
  private pendingBytes = 0;
  private waiting = false;
  private stalled = false;
  private ended = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly link: EmulatedLink,
    private readonly flow: string,
  ) {
    const cut = link.spec.rateBitsPerSecond !== undefined;
    src.on('data', (chunk: Buffer) => {
      if (cut) for (let i = 0; i < chunk.length; i += TCP_SEGMENT_PAYLOAD) this.pending.push(chunk.subarray(i, i + TCP_SEGMENT_PAYLOAD));
      else this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      this.admit();
    });
    src.on('end', () => {
      this.ended = true;
      this.pending.push(null);
      this.admit();
    });
  }

  private admit(): void {
    while (this.pending.length > 0) {
      const seg = this.pending[0]!;
      const size = seg === null ? TCP_OVERHEAD : seg.length + TCP_OVERHEAD * Math.ceil(seg.length / TCP_SEGMENT_PAYLOAD);
      if (!this.link.fits(size)) {
        if (!this.stalled) {
          this.stalled = true;
          this.link.noteStall(this.flow);
        }
        if (!this.src.isPaused()) this.src.pause();
        if (!this.waiting) {
          this.waiting = true;
          this.link.whenRoom(() => {
            this.waiting = false;
            this.admit();
          });
        }
        return;
      }
      this.pending.shift();
      const dst = this.dst;
      if (seg === null) this.link.offer(this.flow, size, () => dst.end());
      else {
        this.pendingBytes -= seg.length;
        this.link.offer(this.flow, size, () => void (dst.destroyed || dst.write(seg)));
      }
    }
    this.stalled = false;
    if (this.pendingBytes < HIGH_WATER && this.src.isPaused() && !this.ended) this.src.resume();
  }
}

export class TcpRelay {
  private readonly sockets = new Set<Socket>();
  private connections = 0;
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly flow: string,
    private readonly targetPort: number,
    private readonly up: EmulatedLink,
    private readonly down: EmulatedLink,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static open(flow: string, targetPort: number, up: EmulatedLink, down: EmulatedLink): Promise<TcpRelay> {
    const server = createServer({ allowHalfOpen: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => {
        server.off('error', reject);
        resolve(new TcpRelay(server, flow, targetPort, up, down));
      });
    });
  }

  get port(): number {
    const a = this.server.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  /** Client connections accepted. */
  get peerCount(): number {
    return this.connections;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.server.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private accept(client: Socket): void {
    if (this.closed || this.sockets.size >= 2 * MAX_CONNECTIONS) {
      client.destroy();
      return;
    }
    this.connections++;
    const target = connect({ port: this.targetPort, host: HOST, allowHalfOpen: true });
    for (const s of [client, target]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => {
        this.sockets.delete(s);
        // A reset (or an error) on one side resets the other: there is nothing left to relay.
        if (!s.readableEnded) (s === client ? target : client).destroy();
      });
      s.on('error', () => {});
    }
    new Pump(client, target, this.up, this.flow);
    new Pump(target, client, this.down, this.flow);
  }
}
