/**
 * One simulated session: the server's Connection and the client's, joined by a seeded LinkSimulator
 * (direction 'a-to-b' is server → client). The real protocol on both ends; only the wire is simulated.
 */

import { Connection, LinkSimulator, type ConnectionEvent, type ConnectionOptions, type LinkConditions } from '@volley/protocol';

export class SimSession {
  readonly server: Connection;
  readonly client: Connection;
  readonly link: LinkSimulator;
  /** Cut: every datagram both ways is dropped (a vanished client or a dead network). */
  cut = false;

  constructor(
    readonly id: number,
    seed: number,
    conditions: LinkConditions,
    options: ConnectionOptions,
    private readonly onServerEvent: (e: ConnectionEvent) => void,
    private readonly onClientEvent: (e: ConnectionEvent) => void,
  ) {
    this.server = Connection.server(options);
    this.client = Connection.client({ ...options, nonce: id });
    this.link = new LinkSimulator({ seed, conditions });
  }

  /** When this session next needs a step. */
  nextTime(): number {
    return Math.min(this.server.nextTimeout(), this.client.nextTimeout(), this.link.nextDeliveryTime());
  }

  /** Delivers what is due, polls both ends, hands out their events. */
  step(now: number): void {
    for (const { direction, datagram } of this.link.deliver(now)) {
      if (this.cut) continue;
      (direction === 'a-to-b' ? this.client : this.server).handle(datagram, now);
    }
    this.drain();
    // What the events made the application send goes out in the same step (bounded: events of a poll are few).
    for (let round = 0; round < 4; round++) {
      let sent = 0;
      for (const d of this.server.poll(now)) sent += this.send('a-to-b', d, now);
      for (const d of this.client.poll(now)) sent += this.send('b-to-a', d, now);
      if (!this.drain() && sent === 0) break;
    }
  }

  private send(direction: 'a-to-b' | 'b-to-a', d: Uint8Array, now: number): number {
    this.link.send(direction, d, now);
    return 1;
  }

  /**
   * No reliable message unacknowledged or queued on either end (pings and acks may still be on the wire:
   * they carry nothing the application waits for).
   */
  get quiet(): boolean {
    for (const c of [this.server, this.client]) if (c.state === 'connected' && c.stats().pendingReliableBytes > 0) return false;
    return true;
  }

  /** Hands out pending events; returns whether there were any. */
  private drain(): boolean {
    let any = false;
    for (let e = this.server.pollEvent(); e; e = this.server.pollEvent(), any = true) this.onServerEvent(e);
    for (let e = this.client.pollEvent(); e; e = this.client.pollEvent(), any = true) this.onClientEvent(e);
    return any;
  }
}
