/** Why connect() failed, typed, with the reason each transport tried gave. */

import { DisconnectReason } from '@volley/protocol';
import type { TransportKind } from './transport.js';

export interface TransportFailure {
  transport: TransportKind;
  reason: string;
}

export type ConnectErrorCode =
  /** The server's onAuth refused the client. */
  | 'rejected'
  /** The server has no room for another session. */
  | 'server-full'
  /** Client and server speak different protocol versions. */
  | 'version-mismatch'
  /** Client and server use different channel layouts. */
  | 'channel-mismatch'
  /** No answer to the connect request in time. */
  | 'timeout'
  /** GET /volley/info failed: wrong URL, server down, network. */
  | 'unreachable'
  /** Every transport failed (see `failures`). */
  | 'no-transport'
  /** The session ended during the handshake for another reason. */
  | 'closed';

export class ConnectError extends Error {
  override readonly name = 'ConnectError';
  constructor(
    readonly code: ConnectErrorCode,
    message: string,
    /** Each transport tried, and why it did not work. */
    readonly failures: TransportFailure[],
    /** The protocol's reason code, when the server gave one. */
    readonly reason?: number,
  ) {
    super(message);
  }
}

/** The ConnectError code for a protocol reason code that ended a handshake. */
export function connectErrorCode(reason: number): ConnectErrorCode {
  switch (reason) {
    case DisconnectReason.Rejected:
      return 'rejected';
    case DisconnectReason.ServerFull:
      return 'server-full';
    case DisconnectReason.VersionMismatch:
      return 'version-mismatch';
    case DisconnectReason.ChannelMismatch:
      return 'channel-mismatch';
    case DisconnectReason.ConnectTimeout:
      return 'timeout';
    default:
      return 'closed';
  }
}
