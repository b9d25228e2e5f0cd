/**
 * Raw TCP clients for the HTTP attack tests: they write whatever bytes they like (partial headers, huge or
 * endless bodies) to 127.0.0.1 and record what comes back and when the server closes. Every socket made here
 * is tracked, so a test's afterEach can destroy them all.
 */

import net from 'node:net';

export class RawConn {
  private data = '';
  private closedAt: number | undefined;
  /** Bytes this side handed to the socket (what the server may have read is at most this). */
  sent = 0;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (this.data += d));
    socket.on('error', () => {}); // resets are what some tests expect
    socket.on('close', () => (this.closedAt = Date.now()));
  }

  static open(port: number, all: RawConn[]): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      const conn = new RawConn(socket);
      all.push(conn);
      socket.once('connect', () => resolve(conn));
      socket.once('error', reject);
    });
  }

  /** Everything the server sent so far. */
  get received(): string {
    return this.data;
  }

  get closed(): boolean {
    return this.closedAt !== undefined;
  }

  write(text: string | Buffer): boolean {
    if (this.socket.destroyed) return false;
    this.sent += typeof text === 'string' ? Buffer.byteLength(text) : text.byteLength;
    return this.socket.write(text);
  }

  /**
   * Writes `chunk` again and again (waiting for drain) until the server closes, `maxBytes` are sent or `ms`
   * pass: a client pushing a huge body.
   */
  async flood(chunk: Buffer, maxBytes: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!this.closed && !this.socket.destroyed && this.sent < maxBytes && Date.now() < end) {
      if (!this.write(chunk)) await this.drained(20);
    }
  }

  /** Resolves on 'drain', or after `ms` (the server may stop reading for good). */
  private drained(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.socket.off('drain', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.socket.once('drain', done);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Waits (every 5 ms) until `cond()` holds; returns false after `ms` instead of throwing. */
export async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
