/**
 * Why a join (or a room) failed on the client: a code named after the server's JoinErrorCode, or one of the
 * client's own ('session-ended': the session ended before the server answered).
 */

import { JoinErrorCode } from '@volley/protocol';

export type RoomErrorCode =
  | 'unknown-room-type'
  | 'no-room-found'
  | 'room-not-found'
  | 'room-unavailable'
  | 'rejected'
  | 'expired'
  | 'failed'
  | 'bad-request'
  | 'limit'
  | 'session-ended'
  | 'malformed'
  /** Messages sent before a reconnection that the server never got and the client could no longer resend. */
  | 'lost-messages';

const BY_WIRE: Record<number, RoomErrorCode> = {
  [JoinErrorCode.UnknownRoomType]: 'unknown-room-type',
  [JoinErrorCode.NoRoomFound]: 'no-room-found',
  [JoinErrorCode.RoomNotFound]: 'room-not-found',
  [JoinErrorCode.RoomUnavailable]: 'room-unavailable',
  [JoinErrorCode.Rejected]: 'rejected',
  [JoinErrorCode.Expired]: 'expired',
  [JoinErrorCode.Failed]: 'failed',
  [JoinErrorCode.BadRequest]: 'bad-request',
  [JoinErrorCode.Limit]: 'limit',
};

export class RoomError extends Error {
  override readonly name = 'RoomError';
  constructor(
    readonly code: RoomErrorCode,
    message: string,
  ) {
    super(message);
  }

  static fromWire(code: number, message: string): RoomError {
    return new RoomError(BY_WIRE[code] ?? 'failed', message);
  }
}
