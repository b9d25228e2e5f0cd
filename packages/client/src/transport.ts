/**
 * The contract between the client core and each transport (webrtc, websocket, polling, and udp in Node).
 * A transport moves protocol datagrams to one server and back; the core runs the protocol over it and
 * may move the session to another transport (docs/transports.md).
 */

import type { TransportKind } from '@volley/protocol';

export type { TransportKind } from '@volley/protocol';

export interface ClientTransport {
  readonly kind: TransportKind;
  /** True when the transport is itself reliable and ordered (WebSocket, polling). */
  readonly reliable: boolean;
  /**
   * Opens the transport; resolves once datagrams can flow, rejects with an Error saying why it could not
   * (refused, timeout, unsupported here…). Aborting the signal abandons the attempt and frees everything.
   */
  open(signal: AbortSignal): Promise<void>;
  /** Sends one datagram. Never throws; drops once closed. */
  send(datagram: Uint8Array): void;
  /** Closes and frees everything; onClose is not called for a close we asked for. */
  close(): void;
  /** Set by the core: one call per datagram received. */
  onDatagram: (datagram: Uint8Array) => void;
  /** Set by the core: the transport died on its own, with why. */
  onClose: (reason: string) => void;
}

/** What the server says about itself at GET /volley/info. */
export interface ServerInfo {
  protocol: number;
  transports: TransportKind[];
  /** Per transport, what a client needs to reach it, e.g. { udp: { port: 8081 } }. */
  endpoints: Partial<Record<TransportKind, Record<string, unknown>>>;
}

/** Creates a transport to the server at `baseUrl` (http://host:port), given its info. */
export type TransportFactory = (baseUrl: URL, info: ServerInfo) => ClientTransport;
