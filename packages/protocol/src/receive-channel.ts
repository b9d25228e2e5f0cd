/**
 * The receiving half of a channel, one class per kind (ordered-receiver.ts, unordered-receiver.ts,
 * sequenced-receiver.ts, unreliable-receiver.ts) behind this interface.
 *
 * A packet is applied in two passes so that a bad packet changes nothing: first every record is
 * `check`ed (read-only); if any is a violation the whole packet is dropped unacknowledged. Then the
 * records are `accept`ed. Acks are per packet, so a reliable record can never be half-taken.
 */

import type { ChannelConfig } from './channel-config.js';
import type { MessageRecord } from './record.js';
import type { DropReason } from './trace.js';

/** What a receiver reports back to the connection while accepting records. */
export interface ReceiveSink {
  deliver(channel: number, id: number | undefined, data: Uint8Array): void;
  buffered(channel: number, id: number, waitingFor: number): void;
  duplicate(channel: number, id: number): void;
  dropped(channel: number, id: number | undefined, reason: DropReason): void;
}

export interface ReceiveChannel {
  /**
   * A new packet is about to be checked (fragments of one message within a packet are checked together).
   * `reference`: for a late packet, the id to unwrap its 16-bit ids against (id-history.ts); else undefined.
   */
  beginPacket(reference: number | undefined): void;
  /** Highest message id seen so far (unwrapped), for id-history checkpoints. */
  readonly highest: number;
  /** Read-only (apart from staging this packet's fragments): undefined if acceptable, else why the record breaks the protocol. `extra` = bytes this packet already adds. */
  check(record: MessageRecord, extra: number): string | undefined;
  /** Bytes accepting this record could add to buffers (used with `check` to bound a whole packet). */
  cost(record: MessageRecord): number;
  accept(record: MessageRecord, now: number, sink: ReceiveSink): void;
  /** Drops partial messages whose reassembly timeout has passed at `now` (unreliable kinds). */
  expire(now: number, sink: ReceiveSink): void;
  /** When the oldest partial message's reassembly timeout passes (Infinity: none held): the connection's Reassembly timer. */
  nextExpiry(): number;
  /** Messages (complete or partial) held waiting. */
  readonly bufferedMessages: number;
  readonly bufferedBytes: number;
}

export interface ReceiveChannelContext {
  index: number;
  config: ChannelConfig;
  /** Partial unreliable messages older than this (ms) are dropped. */
  reassemblyTimeout: number;
}
