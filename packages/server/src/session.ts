/**
 * A client session on the server, as the application sees it: who it is (id, user data from onAuth), what it
 * runs on (transport), and what it can do (send, close, stats). Its life is decided by the protocol's
 * ServerEndpoint; this is only the application's handle on it, valid until its 'disconnect' event.
 */

import {
  BURST_SECONDS,
  channelIndex,
  encodeMessage,
  TokenBucket,
  type ChannelChoice,
  type ChannelOptions,
  type Connection,
  type ConnectionStats,
  type EndpointSession,
} from '@volley/protocol';
import type { ServerErrorCode } from './server-error.js';
import type { UserData } from './server-options.js';
import type { TransportKind, TransportLink } from './transport.js';

export interface SendOptions {
  /** Channel by index or kind. Default 'reliable-ordered'. */
  channel?: ChannelChoice;
}

export interface SessionStats extends ConnectionStats {
  transport: TransportKind | undefined;
}

/** What a Session asks of the server that owns it. */
export interface SessionHost {
  readonly layout: readonly ChannelOptions[];
  now(): number;
  sendTo(session: Session, channel: number, bytes: Uint8Array): void;
  trySendTo(session: Session, channel: number, bytes: Uint8Array): boolean;
  closeSession(session: Session, reason: number, text: string): void;
  dropSessionLink(session: Session): void;
}

export class Session {
  /** Whatever onAuth returned for this client. */
  user: UserData;
  /** @internal The server's rate limit of this session's delivered messages (its datagrams are the endpoint's). */
  readonly messages: TokenBucket;
  /** Errors this session caused, by code (only the first of each reaches onError). */
  readonly errorCounts: Partial<Record<ServerErrorCode, number>> = {};

  /** @internal created by the Server */
  constructor(
    private readonly host: SessionHost,
    /** @internal */
    readonly endpointSession: EndpointSession<TransportLink>,
    limits: { messagesPerSecond: number },
  ) {
    this.messages = new TokenBucket(limits.messagesPerSecond, limits.messagesPerSecond * BURST_SECONDS, host.now());
  }

  /** Messages from this client that were no message (bad envelope or MessagePack): dropped, counted. */
  get malformedMessages(): number {
    return this.errorCounts['malformed-message'] ?? 0;
  }

  /** The session id (the protocol connection id, also what the client resumes with). */
  get id(): number {
    return this.endpointSession.id;
  }

  /** The transport the session sends over now (undefined while the client moves to another). */
  get transport(): TransportKind | undefined {
    return this.endpointSession.current?.kind;
  }

  /** The transport link the session sends over now. */
  get link(): TransportLink | undefined {
    return this.endpointSession.current;
  }

  /** 'pending' (onAuth deciding), 'connected', 'disconnecting' (closing), 'disconnected'. */
  get state(): string {
    return this.endpointSession.state;
  }

  /** The protocol connection (for its stats and figures; drive it only through the session). */
  get connection(): Connection {
    return this.endpointSession.connection;
  }

  /**
   * Sends a message: structured data is MessagePack-encoded, a Uint8Array goes through untouched. Everything
   * sent in one turn of the event loop leaves together (one packet where it fits). Throws SendError.
   */
  send(type: string, data?: unknown, options: SendOptions = {}): void {
    this.host.sendTo(this, channelIndex(this.host.layout, options.channel ?? 'reliable-ordered'), encodeMessage(type, data));
  }

  /**
   * send() for a hot path: false, with no exception, when the session cannot hold the message now (send()
   * would throw SendError 'backpressure'; an unreliable message is dropped instead); true when queued. Other
   * mistakes still throw, as in send().
   */
  trySend(type: string, data?: unknown, options: SendOptions = {}): boolean {
    return this.host.trySendTo(this, channelIndex(this.host.layout, options.channel ?? 'reliable-ordered'), encodeMessage(type, data));
  }

  /** Closes the session; the client receives `reason` (a code, 32–255 for applications) and `text`. */
  close(reason = 0, text = ''): void {
    this.host.closeSession(this, reason, text);
  }

  stats(): SessionStats {
    return { ...this.connection.stats(this.host.now()), transport: this.transport };
  }

  /**
   * Closes the transport link the session is on now; the session itself stays and the client moves it to
   * another transport (its RESUME brings it back). For operators, and for testing migration.
   */
  dropLink(): void {
    this.host.dropSessionLink(this);
  }
}
