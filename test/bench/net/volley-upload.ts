/**
 * A bulk upload over a Volley connection: `total` bytes in 1000-byte raw messages on channel 0
 * (reliable-ordered), refilled every millisecond while the client holds less than MAX_PENDING bytes
 * unacknowledged (as packages/protocol/test/congestion.test.ts does in simulated time). The server's handler
 * counts what arrives and checks the order (each message's bytes are its index mod 251).
 */

import { performance } from 'node:perf_hooks';
import type { Client } from '@volley/client';
import { SendError } from '@volley/protocol';
import type { Server } from '@volley/server';

export const UPLOAD_MESSAGE_SIZE = 1000;
const MAX_PENDING = 512 * 1024;
const REFILL_MS = 1;
const TYPE = 'upload';

export class VolleyUpload {
  readonly done: Promise<void>;
  sentBytes = 0;
  deliveredBytes = 0;
  inOrder = true;
  /** SendError 'backpressure' met while refilling (the refill then waits for the next tick). */
  backpressure = 0;
  startedAt = 0;
  doneAt: number | undefined;
  /** Set when a send failed otherwise than with back-pressure (the upload then stops). */
  error: string | undefined;
  private expected = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private resolve: () => void = () => {};
  private readonly unsubscribe: () => void;

  constructor(
    private readonly client: Client,
    server: Server,
    readonly total: number,
  ) {
    this.done = new Promise((r) => (this.resolve = r));
    this.unsubscribe = server.onMessage(TYPE, (_session, data) => {
      if (!(data instanceof Uint8Array)) return;
      if (data[0] !== this.expected % 251) this.inOrder = false;
      this.expected++;
      this.deliveredBytes += data.length;
      if (this.deliveredBytes >= this.total && this.doneAt === undefined) {
        this.doneAt = performance.now();
        this.stop();
      }
    });
  }

  start(): void {
    this.startedAt = performance.now();
    this.refill();
  }

  /** Stops sending (what is in flight still arrives and is counted) and resolves `done`. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.resolve();
  }

  /** Stops, and removes the server's handler (call once the connection is closed). */
  dispose(): void {
    this.stop();
    this.unsubscribe();
  }

  private refill(): void {
    this.timer = undefined;
    if (this.stopped) return;
    let pending = this.client.stats().pendingReliableBytes;
    while (this.sentBytes < this.total && pending + UPLOAD_MESSAGE_SIZE <= MAX_PENDING) {
      try {
        this.client.send(TYPE, new Uint8Array(UPLOAD_MESSAGE_SIZE).fill((this.sentBytes / UPLOAD_MESSAGE_SIZE) % 251), { channel: 0 });
      } catch (e) {
        if (e instanceof SendError && e.code === 'backpressure') {
          this.backpressure++;
          break;
        }
        this.error = `send: ${e instanceof Error ? e.message : String(e)}`;
        return this.stop();
      }
      this.sentBytes += UPLOAD_MESSAGE_SIZE;
      pending += UPLOAD_MESSAGE_SIZE;
    }
    this.timer = setTimeout(() => this.refill(), REFILL_MS);
  }
}
