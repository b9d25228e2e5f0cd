/**
 * KCP (the reference C ikcp, through the `node-kcp` binding) as an optional peer of the loss case. It is never
 * a dependency of this repository: it is loaded by absolute path from a directory of its own, by default
 * /tmp/kcp-peer (VOLLEY_BENCH_KCP_DIR changes it), where it is installed with
 *   mkdir -p /tmp/kcp-peer && cd /tmp/kcp-peer && npm_config_nodedir=/usr npm install --no-save node-kcp
 * When it is not there (or does not load), the KCP rows are skipped with that note.
 *
 * Mode: "fast" as KCP's own documentation gives it, nodelay(1, 10, 2, 1) (no delay, 10 ms interval, fast
 * resend after 2 duplicate ACKs, no congestion window), windows of 128 both ways, message mode. Each side is
 * driven by update() at the time check() asks for (at least 1 ms ahead), on one millisecond clock; a send is
 * flushed at once (so a message never waits for the next interval), ACKs go out at the next update.
 */

import { createSocket, type Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const KCP_DIR = process.env['VOLLEY_BENCH_KCP_DIR'] ?? '/tmp/kcp-peer';
export const KCP_INSTALL = `mkdir -p ${KCP_DIR} && cd ${KCP_DIR} && npm_config_nodedir=/usr npm install --no-save node-kcp`;
const ADDON = join(KCP_DIR, 'node_modules', 'node-kcp', 'build', 'Release', 'kcp.node');
const CONV = 0x566f6c6c;
const HOST = '127.0.0.1';

interface KcpObject {
  nodelay(nodelay: number, interval: number, resend: number, nc: number): void;
  wndsize(send: number, receive: number): void;
  output(callback: (data: Buffer, size: number) => void): void;
  input(data: Buffer): number;
  send(data: Buffer): number;
  recv(): Buffer | undefined;
  update(now: number): void;
  check(now: number): number;
  flush(): void;
  release(): void;
}

type KcpConstructor = new (conv: number, context: object) => KcpObject;

/** The binding, or why it cannot be used. */
export function loadKcp(): { KCP: KcpConstructor } | { error: string } {
  try {
    const mod = createRequire(import.meta.url)(ADDON) as { KCP?: KcpConstructor };
    if (typeof mod.KCP !== 'function') return { error: `${ADDON} does not export KCP` };
    return { KCP: mod.KCP };
  } catch (e) {
    return { error: `node-kcp is not installed at ${KCP_DIR} (${(e as Error).message.split('\n')[0]}); to include KCP: ${KCP_INSTALL}` };
  }
}

const clock = (): number => Math.floor(performance.now());

/** One end of a KCP session over a UDP socket of its own, sending to a fixed address. */
export class KcpEnd {
  private readonly kcp: KcpObject;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private remotePort: number | undefined;

  private constructor(
    KCP: KcpConstructor,
    private readonly socket: Socket,
    remotePort: number | undefined,
    onMessage: (data: Uint8Array) => void,
  ) {
    this.remotePort = remotePort;
    this.kcp = new KCP(CONV, {});
    this.kcp.nodelay(1, 10, 2, 1);
    this.kcp.wndsize(128, 128);
    this.kcp.output((data, size) => {
      if (!this.closed && this.remotePort !== undefined) socket.send(data, 0, size, this.remotePort, HOST);
    });
    socket.on('message', (msg, from) => {
      if (this.closed) return;
      this.remotePort ??= from.port; // the listening end answers whoever spoke first
      this.kcp.input(msg);
      for (let m = this.kcp.recv(); m; m = this.kcp.recv()) onMessage(m);
      this.schedule();
    });
    socket.on('error', () => {});
    this.schedule();
  }

  /** An end on a fresh 127.0.0.1 socket; `remotePort` undefined: wait to hear from the other end first. */
  static open(KCP: KcpConstructor, remotePort: number | undefined, onMessage: (data: Uint8Array) => void): Promise<KcpEnd> {
    const socket = createSocket('udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, HOST, () => {
        socket.off('error', reject);
        resolve(new KcpEnd(KCP, socket, remotePort, onMessage));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(data: Uint8Array): void {
    if (this.closed) return;
    this.kcp.send(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.kcp.flush();
    this.schedule();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.kcp.release();
    this.socket.close();
  }

  private schedule(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    const now = clock();
    this.kcp.update(now);
    this.timer = setTimeout(() => this.schedule(), Math.max(1, this.kcp.check(now)));
  }
}
