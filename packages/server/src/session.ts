/**
 * A client session on the server: one protocol Connection, above any transport. It sends over its current
 * link and accepts datagrams from any link still attached (during a move both may deliver); a RESUME moves it
 * to another link without losing or duplicating a reliable message (Connection.transportChanged).
 */

import { encode as msgpackEncode } from '@msgpack/msgpack';
import {
  channelIndex, encodeEnvelope, type ChannelChoice, type ChannelOptions, type Connection, type ConnectionStats,
} from '@volley/protocol';
import { RateLimiter } from './rate-limiter.js';
import type { UserData } from './server-options.js';
import type { TransportKind, TransportLink } from './transport.js';

export interface SendOptions {
  /** Channel by index or kind. Default 'reliable-ordered'. */
  channel?: ChannelChoice;
}

export interface SessionStats extends ConnectionStats {
  transport: TransportKind | undefined;
}

export class Session {
  /** Whatever onAuth returned for this client. */
  user: UserData;
  private current: TransportLink | undefined;
  private readonly links = new Set<TransportLink>();
  readonly messages: RateLimiter;
  readonly bytes: RateLimiter;
  private flushQueued = false;

  constructor(
    /** The protocol connection id (also the session id clients resume with). */
    readonly id: number,
    readonly connection: Connection,
    private readonly layout: readonly ChannelOptions[],
    link: TransportLink,
    limits: { messagesPerSecond: number; bytesPerSecond: number },
    now: number,
    /** Runs the connection: poll, send, reschedule (provided by the Server). */
    private readonly pump: (session: Session) => void,
  ) {
    this.attach(link);
    this.messages = new RateLimiter(limits.messagesPerSecond, limits.messagesPerSecond * 2, now);
    this.bytes = new RateLimiter(limits.bytesPerSecond, limits.bytesPerSecond * 2, now);
  }

  /** The transport the session sends over now. */
  get transport(): TransportKind | undefined {
    return this.current?.kind;
  }

  get link(): TransportLink | undefined {
    return this.current;
  }

  get state(): string {
    return this.connection.state;
  }

  /** Sends a message: structured data is MessagePack-encoded, a Uint8Array goes through untouched. */
  send(type: string, data?: unknown, options: SendOptions = {}): void {
    const raw = data instanceof Uint8Array;
    const body = raw ? data : msgpackEncode(data ?? null);
    this.connection.send(channelIndex(this.layout, options.channel ?? 'reliable-ordered'), encodeEnvelope(type, body, raw));
    // Coalesce: everything sent in this turn of the event loop goes out together.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.pump(this);
      });
    }
  }

  /** Closes the session; the client receives `reason` (a code, 32–255 for applications) and `text`. */
  close(reason = 0, text = ''): void {
    this.connection.disconnect(performance.now(), reason, text);
    this.pump(this);
  }

  stats(): SessionStats {
    return { ...this.connection.stats(performance.now()), transport: this.transport };
  }

  /**
   * Closes the transport link the session is on now; the session itself stays and the client moves it to
   * another transport (its RESUME brings it back). For operators, and for testing migration.
   */
  dropLink(): void {
    const link = this.current;
    if (!link) return;
    this.detach(link);
    link.close();
  }

  /** @internal Makes `link` the one to send on (and keeps listening on the others until they close). */
  attach(link: TransportLink): void {
    this.links.add(link);
    this.current = link;
  }

  /** @internal A link closed: forget it; if it was the current one, the session waits for a RESUME. */
  detach(link: TransportLink): void {
    this.links.delete(link);
    if (this.current === link) this.current = [...this.links].at(-1);
  }

  /** @internal */
  hasLink(link: TransportLink): boolean {
    return this.links.has(link);
  }

  /** @internal Closes every link (after the session ended). */
  closeLinks(): void {
    for (const l of this.links) l.close();
    this.links.clear();
    this.current = undefined;
  }

  /** @internal */
  transmit(datagrams: Uint8Array[]): void {
    const link = this.current;
    if (!link) return; // between transports: in-flight content is resent after the RESUME
    for (const d of datagrams) link.send(d);
  }
}
