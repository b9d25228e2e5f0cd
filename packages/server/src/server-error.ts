/**
 * What the server reports to `onError`: typed, with a code, and tied to the session it came from. What a peer
 * can cause (its unusable messages, a handler failing on its messages, sends it makes fail by not reading) is
 * reported once per session and code, and counted in `session.errorCounts`, so one client cannot flood the log.
 */

import type { Session } from './session.js';

export type ServerErrorCode =
  /** A client sent something that is no message (bad envelope or MessagePack): dropped. */
  | 'malformed-message'
  /** A message handler (or a connect/disconnect listener) threw. */
  | 'handler-failed'
  /** A send in a handler failed (SendError: the client's queue is full because it does not read, or it is closing). */
  | 'send-failed'
  /** A room's hook or message handler threw, or its listing could not be updated (the message names the room). */
  | 'room-failed'
  /** Redis (scale-out: docs/scaling.md) became unreachable, or a message from it could not be used. Rooms run on. */
  | 'redis';

export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(
    readonly code: ServerErrorCode,
    message: string,
    /** The session it came from, if any. */
    readonly session: Session | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
