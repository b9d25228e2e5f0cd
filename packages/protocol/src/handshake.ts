/**
 * The connection handshake (docs/protocol.md §5), one class per side.
 *
 * Client: CONNECT attempts, numbered and retried with backoff, each one's send time remembered, until an
 * ACCEPT (or REJECT) with our nonce arrives or the deadline passes. The ACCEPT names the attempt it answers
 * and carries the server's clock when that attempt arrived (t1) and when the ACCEPT left (t2); with our send
 * time (t0) and arrival time (t3) that is one NTP sample: the round trip without the server's hold (its auth
 * decision) and the server's clock offset, so both exist the moment the connection is up.
 *
 * Server: the client's connect request (nonce, attempt, arrival time, size), the answer to repeat when a
 * CONNECT comes again (ours was lost), and never a reply larger than the request that caused it.
 */

import { channelSpec, type ChannelConfig } from './channel-config.js';
import { encodeControl, encodeRejectFor, PROTOCOL_VERSION, type AcceptPacket, type ConnectPacket } from './control.js';

/** Longest wait between two CONNECT attempts, ms. */
const MAX_CONNECT_RETRY = 1000;

/** One clock sample: round trip and peer clock minus ours, ms. */
export interface ClockSample {
  rtt: number;
  offset: number;
}

export class ClientHandshake {
  private payload: Uint8Array = new Uint8Array(0);
  private attempt = 0;
  private readonly attemptSentAt = new Float64Array(256).fill(NaN);
  /** When the next attempt is due, and when the client gives up (Infinity: not connecting). */
  nextAttemptAt = Infinity;
  deadline = Infinity;

  /** `maxAckDelay`: the longest this client holds an owed ack (ms), announced in every CONNECT. */
  constructor(
    private readonly nonce: number,
    private readonly retryInterval: number,
    private readonly maxAckDelay: number,
  ) {}

  start(now: number, payload: Uint8Array, timeout: number): void {
    this.payload = payload.slice();
    this.nextAttemptAt = now;
    this.deadline = now + timeout;
  }

  stop(): void {
    this.nextAttemptAt = this.deadline = Infinity;
  }

  /** The next CONNECT (call when `nextAttemptAt` has passed); schedules the one after it. */
  nextAttempt(now: number, channels: readonly ChannelConfig[]): Uint8Array {
    this.attempt = (this.attempt + 1) & 0xff;
    this.attemptSentAt[this.attempt] = now;
    const p: ConnectPacket = {
      type: 'connect',
      version: PROTOCOL_VERSION,
      nonce: this.nonce,
      attempt: this.attempt,
      maxAckDelay: this.maxAckDelay,
      channels: channels.map(channelSpec),
      payload: this.payload,
    };
    const retry = this.retryInterval * 1.5 ** Math.min(this.attempt - 1, 20);
    this.nextAttemptAt = now + Math.min(retry, MAX_CONNECT_RETRY);
    return encodeControl(p);
  }

  /** Whether an ACCEPT/REJECT is for this client's attempts. */
  ours(nonce: number): boolean {
    return nonce === this.nonce;
  }

  /**
   * The clock sample an ACCEPT gives, or undefined when its times are unusable (an attempt we never sent,
   * a server clock running backwards, a negative round trip).
   */
  sample(accept: AcceptPacket, now: number): ClockSample | undefined {
    const t0 = this.attemptSentAt[accept.attempt]!;
    const { receivedAt: t1, sentAt: t2 } = accept;
    if (Number.isNaN(t0) || !(t2 >= t1)) return undefined;
    const rtt = now - t0 - (t2 - t1);
    const offset = (t1 - t0 + (t2 - now)) / 2;
    if (!(rtt >= 0) || !Number.isFinite(offset)) return undefined;
    return { rtt, offset };
  }
}

export class ServerHandshake {
  /** The client's nonce (0 until its CONNECT arrived). */
  peerNonce = 0;
  private attempt = 0;
  private attemptReceivedAt = 0;
  private requestSize = 0;
  private refusal: { reason: number; text: string } | undefined;

  /** A CONNECT arrived (the first, or a repeat with the same nonce). */
  onConnect(p: ConnectPacket, size: number, now: number): void {
    this.peerNonce = p.nonce;
    this.attempt = p.attempt;
    this.attemptReceivedAt = now;
    this.requestSize = size;
  }

  /**
   * ACCEPT for the latest attempt: its arrival time and now, so the client gets a clock sample, and the longest
   * the server holds an owed ack (ms).
   */
  accept(now: number, connectionId: number, token: Uint8Array, maxAckDelay: number): Uint8Array {
    return encodeControl({
      type: 'accept',
      nonce: this.peerNonce,
      connectionId,
      attempt: this.attempt,
      maxAckDelay,
      token,
      receivedAt: this.attemptReceivedAt,
      sentAt: now,
    });
  }

  /** REJECT for the latest request, its text cut so it is no larger than that request; remembered for repeats. */
  reject(reason: number, text: string): Uint8Array {
    this.refusal = { reason, text };
    return encodeRejectFor(this.requestSize, this.peerNonce, reason, text);
  }

  /** The REJECT to send again for a repeated CONNECT, if we refused this client. */
  repeatRefusal(): Uint8Array | undefined {
    return this.refusal && encodeRejectFor(this.requestSize, this.peerNonce, this.refusal.reason, this.refusal.text);
  }
}
