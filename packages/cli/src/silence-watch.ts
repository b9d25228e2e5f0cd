/**
 * How long the server has been silent, for `volley ping`. A live server sends something at least every
 * second (keepalives and pings, whatever the application does), so silence means it is gone: past
 * `limit` the watch ends the run, whether or not the client has given up on the session yet.
 */

import type { Client } from '@volley/client';
import { r3 } from './ping-stats.js';
import type { PingStop } from './ping-stop.js';

const CHECK_EVERY_MS = 250;

export class SilenceWatch {
  private heard: number;
  private heardAt = performance.now();
  private readonly triedBefore: number;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly client: Client,
    private readonly limit: number,
    private readonly stop: PingStop,
  ) {
    this.heard = client.stats().packetsReceived;
    this.triedBefore = client.failures.length;
    this.timer = setInterval(() => this.check(), Math.min(CHECK_EVERY_MS, limit));
  }

  /** Time since the last packet from the server, ms (to the last check). */
  get silentFor(): number {
    this.check();
    return performance.now() - this.heardAt;
  }

  dispose(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const received = this.client.stats().packetsReceived;
    if (received !== this.heard) {
      this.heard = received;
      this.heardAt = performance.now();
    } else if (performance.now() - this.heardAt >= this.limit) {
      this.stop.end({ why: 'lost', message: `lost the server: nothing received from it for ${r3(this.limit / 1000)} s${this.lastTry()}` });
    }
  }

  /** The last failed attempt of the client to move the session to a transport, if any. */
  private lastTry(): string {
    const last = this.client.failures.slice(this.triedBefore).at(-1);
    return last ? `; last try: ${last.transport}: ${last.reason}` : '';
  }
}
