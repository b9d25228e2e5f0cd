/**
 * Why a join failed on the server: a JoinErrorCode (docs/protocol.md §9) and a message for the client. The
 * matchmaker and room runtime throw it; the room hub turns it into a JOIN_ERROR frame.
 */

import { JoinErrorCode } from '@volley/protocol';

export type JoinErrorName = keyof typeof JoinErrorCode;

export class JoinError extends Error {
  override readonly name = 'JoinError';
  constructor(
    readonly code: JoinErrorName,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get wireCode(): number {
    return JoinErrorCode[this.code];
  }
}
