/**
 * The contract between the server core (sessions) and each transport (webrtc, websocket, polling, udp).
 *
 * A transport accepts *links*: one client's connection over that transport. A link only moves protocol
 * datagrams; it knows nothing of sessions. The core reads the first datagram of a link (a CONNECT or a
 * RESUME, docs/transports.md) to attach it to a session, and may move a session from one link to another.
 */

import type { TransportKind } from '@volley/protocol';
import type { HttpHost } from './http-host.js';

export { TRANSPORT_KINDS, type TransportKind } from '@volley/protocol';

export interface TransportLink {
  readonly kind: TransportKind;
  /** True when the transport is itself reliable and ordered (WebSocket, polling): the protocol then runs without retransmission. */
  readonly reliable: boolean;
  /** The peer, for logs and limits, e.g. "127.0.0.1:53422". */
  readonly remote: string;
  /** Sends one datagram. Never throws; silently drops once the link is closed. */
  send(datagram: Uint8Array): void;
  /** Closes the link and frees what it holds; onClose is not called for a close we asked for. */
  close(): void;
  /** Set by the core before any datagram is delivered: one call per datagram received. */
  onDatagram: (datagram: Uint8Array) => void;
  /** Set by the core: the link died on its own (peer closed, socket error, poll abandoned), with why. */
  onClose: (reason: string) => void;
}

/** What a transport is given when it starts. */
export interface TransportContext {
  /** The shared HTTP server (signaling, WebSocket upgrade, polling routes). */
  http: HttpHost;
  /** Host to bind extra sockets to (UDP, WebRTC), e.g. '127.0.0.1'. */
  host: string;
  /** Largest datagram the protocol sends (its MTU); transports may reject larger ones from clients. */
  mtu: number;
  /** Hands a new link to the core. */
  onLink: (link: TransportLink) => void;
}

export interface TransportServer {
  readonly kind: TransportKind;
  start(ctx: TransportContext): Promise<void>;
  /** Closes every link and frees every port; resolves when done. */
  stop(): Promise<void>;
  /** Facts for clients (GET /volley/info), e.g. { port: 8081 } for UDP. */
  info(): Record<string, unknown>;
}
