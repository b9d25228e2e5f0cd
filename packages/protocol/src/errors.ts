/** Typed errors the protocol throws at its callers (never from the receive path). */

export type SendErrorCode =
  /** The channel's queue cap (bytes) or reliable window (messages) is full: try again after acks arrive. */
  | 'backpressure'
  /** The message is larger than the channel's maxMessageSize. */
  | 'message-too-large'
  /** No such channel on this connection. */
  | 'unknown-channel'
  /** The connection is closing or closed. */
  | 'closed';

export class SendError extends Error {
  override readonly name = 'SendError';
  constructor(
    readonly code: SendErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Thrown by the Connection constructor for invalid options, naming the option. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Thrown when a method is called in a state that does not allow it (e.g. accept() on a client). */
export class StateError extends Error {
  override readonly name = 'StateError';
}
