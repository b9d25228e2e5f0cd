/**
 * A client that speaks the protocol correctly but puts whatever bytes it likes in its messages and its auth
 * payload: the attack tests' peer. Built from the protocol's own ClientEndpoint over a real WebSocket (or
 * any client transport), so only the content is hostile.
 */

import { WebSocket as NodeWebSocket } from 'ws';
import { fetchInfo, WebSocketClientTransport, type ClientTransport } from '@volley/client';
import { ClientEndpoint, Random, SendError, STANDARD_CHANNELS } from '@volley/protocol';

export class HostileClient {
  private readonly timer: ReturnType<typeof setInterval>;
  private ended: { reason: number; text: string } | undefined;
  private connected = false;
  private deaf = false;
  private sent = 0;
  /** Outgoing datagrams are dropped while this says so (by their index since connecting). */
  private withhold: ((index: number) => boolean) | undefined;

  private constructor(
    private readonly transport: ClientTransport,
    private readonly endpoint: ClientEndpoint<ClientTransport>,
  ) {
    transport.onDatagram = (d) => {
      if (this.deaf) return;
      endpoint.handle(transport, d, performance.now());
      this.pump();
    };
    transport.onClose = () => endpoint.pathClosed(transport, performance.now());
    this.timer = setInterval(() => this.pump(), 5);
  }

  /** Connects over WebSocket with `auth` as the raw CONNECT payload; resolves when connected or ended. */
  static async connect(url: string, auth = new Uint8Array(0), seed = 1): Promise<HostileClient> {
    const base = new URL(url);
    const info = await fetchInfo(base, 5000);
    const t = new WebSocketClientTransport(base, info, NodeWebSocket as unknown as typeof WebSocket);
    await t.open(AbortSignal.timeout(5000));
    const channels = info.channels ?? [...STANDARD_CHANNELS];
    const e = new ClientEndpoint<ClientTransport>({ connection: { channels }, random: new Random(seed) });
    const c = new HostileClient(t, e);
    e.connect(t, true, auth, performance.now());
    const deadline = performance.now() + 5000;
    while (!c.connected && !c.ended && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    return c;
  }

  get isConnected(): boolean {
    return this.connected && !this.ended;
  }

  /** How the session ended (reason code and text), if it did. */
  get end(): { reason: number; text: string } | undefined {
    return this.ended;
  }

  /** Sends `bytes` as one protocol message (it should be an envelope; anything goes). */
  sendRaw(bytes: Uint8Array, channel = 0): void {
    this.endpoint.send(channel, bytes, performance.now());
    this.pump();
  }

  /** Like sendRaw, but waits (up to `ms`) for room when the channel's queue is full (back-pressure). */
  async sendWhenRoom(bytes: Uint8Array, channel = 0, ms = 5000): Promise<void> {
    const deadline = performance.now() + ms;
    for (;;) {
      try {
        return this.sendRaw(bytes, channel);
      } catch (e) {
        if (!(e instanceof SendError) || e.code !== 'backpressure' || performance.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
  }

  /** From now on, the datagrams for which `rule(index)` is true are never sent (the protocol does not resend on WebSocket). */
  withholdWhere(rule: (index: number) => boolean): void {
    this.withhold = rule;
  }

  /** From now on, nothing the server sends is read: no acks, no pongs. */
  deafen(): void {
    this.deaf = true;
  }

  close(): void {
    clearInterval(this.timer);
    this.transport.close();
  }

  private pump(): void {
    const now = performance.now();
    for (const t of this.endpoint.poll(now)) if (!this.withhold?.(this.sent++)) t.path.send(t.datagram);
    for (let e = this.endpoint.pollEvent(); e; e = this.endpoint.pollEvent()) {
      if (e.type === 'connected') this.connected = true;
      if (e.type === 'disconnected') this.ended = { reason: e.reason, text: e.text };
    }
  }
}
