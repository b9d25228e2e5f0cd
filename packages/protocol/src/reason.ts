/**
 * Why a connection ended: the reason codes carried by REJECT and DISCONNECT (docs/protocol.md §5).
 * Codes 0–31 belong to the protocol; 32–255 are free for applications.
 */

export const DisconnectReason = {
  /** The application closed the connection normally. */
  Closed: 0,
  /** Nothing arrived from the peer for the configured timeout (local only, never sent). */
  Timeout: 1,
  /** The server's application refused the connect request (e.g. bad credentials). */
  Rejected: 2,
  /** The server has no room for another connection. */
  ServerFull: 3,
  /** The peers speak different protocol versions. */
  VersionMismatch: 4,
  /** The peers were configured with different channel layouts. */
  ChannelMismatch: 5,
  /** The server removed this client. */
  Kicked: 6,
  /** The peer broke the protocol (e.g. overran a receive window). */
  ProtocolViolation: 7,
  /** The server is shutting down. */
  ShuttingDown: 8,
  /** The client gave up connecting (no answer to its connect requests). */
  ConnectTimeout: 9,
  /** The peer sent more messages or bytes per second than allowed. */
  RateLimited: 10,
  /** No transport could carry the session any more. */
  TransportLost: 11,
  /** A RESUME named no session, or the wrong token. */
  UnknownSession: 12,
} as const;
export type DisconnectReasonCode = number;

const NAMES: Record<number, string> = Object.fromEntries(Object.entries(DisconnectReason).map(([name, code]) => [code, name]));

/** Readable name of a reason code: 'Timeout', 'Rejected', or 'Application(42)'. */
export function reasonName(code: number): string {
  return NAMES[code] ?? (code >= 32 ? `Application(${code})` : `Unknown(${code})`);
}
