/**
 * The sending half of one channel: the queue of new messages, the resend queue (reliable kinds),
 * the byte cap and the reliable window.
 *
 * Reliable kinds hold every message from the oldest unacknowledged id up to the newest queued one;
 * their bytes ("span") never exceed maxQueuedBytes and their ids never run more than `window` ahead,
 * so the receiver never has to buffer more than the same limits (docs/protocol.md §6).
 * Unreliable kinds hold only messages not yet sent; over the cap the oldest are dropped.
 */

import { carriesIds, isReliable, type ChannelConfig } from './channel-config.js';
import { CopySlab } from './copy-slab.js';
import { SendError } from './errors.js';
import { OutgoingMessage, type ResendUnit } from './outgoing-message.js';
import { Queue } from './queue.js';
import { SequenceRing } from './sequence-ring.js';

/** A small unit recently sent on a channel with redundancy, or resent. */
export interface RecentUnit {
  message: OutgoingMessage;
  unit: number;
  copies: number;
  /** Copies it gets whatever the channel's redundancy says (a resent unit: RESEND_COPIES). */
  minCopies: number;
}

/** Most units a channel keeps for redundancy (the newest win). */
const RECENT_UNITS = 32;
/**
 * A small reliable unit that is resent also rides, once, in the next packet with room (docs/protocol.md §6):
 * its loss was one in a row already, and a lost resend costs another round trip and more. The cost is one
 * more copy per loss, not per message.
 */
export const RESEND_COPIES = 1;
/** Units up to this many bytes get that copy (the channel's `redundancy.maxMessageSize` if it has one). */
export const RESEND_COPY_MAX_SIZE = 128;

export class SendChannel {
  readonly reliable: boolean;
  readonly carriesIds: boolean;
  /** Next message id to assign (unwrapped). */
  nextId = 0;
  /** Reliable: oldest message id not fully acknowledged (unwrapped). */
  oldestUnacked = 0;
  /** Reliable: bytes from oldestUnacked to the newest queued message. Unreliable: bytes not yet sent. */
  heldBytes = 0;
  readonly fresh = new Queue<OutgoingMessage>();
  readonly resend = new Queue<ResendUnit>();
  /** Reliable: messages in the span, by id, until the oldest passes them. */
  private readonly span = new SequenceRing<OutgoingMessage>();
  /** Counter for fragment groups on an `unreliable` channel (which has no message ids otherwise). */
  private fragmentGroup = 0;
  /** Where queued messages are copied to. */
  private readonly copies = new CopySlab();
  /** Redundancy: small units sent and not yet acknowledged, oldest first, with the copies each has had. */
  readonly recent: RecentUnit[] = [];
  /** Redundancy: copies each unit gets now (the connection sets it from the loss it sees; at most the option's). */
  copyLimit = 0;

  constructor(
    readonly index: number,
    readonly config: ChannelConfig,
    private readonly fragmentSize: number,
    private readonly wholeLimit: number,
  ) {
    this.reliable = isReliable(config.kind);
    this.carriesIds = carriesIds(config.kind);
  }

  /**
   * Queues a copy of `data` and returns it as a message. Unreliable kinds over their cap drop their oldest
   * unsent messages to make room, pushed onto `dropped` (the caller's reused array: no allocation per send).
   * Throws SendError('message-too-large' | 'backpressure').
   */
  enqueue(data: Uint8Array, dropped: OutgoingMessage[]): OutgoingMessage {
    const size = data.length;
    this.assertFits(size);
    if (this.reliable) {
      if (this.blocked(size)) throw new SendError('backpressure', this.blockedReason(size));
    } else {
      while (this.heldBytes + size > this.config.maxQueuedBytes && this.fresh.length > 0) {
        const old = this.fresh.shift()!;
        this.heldBytes -= old.unsentBytes();
        dropped.push(old);
      }
    }
    let id: number;
    if (this.carriesIds) id = this.nextId++;
    else id = size > this.wholeLimit ? this.fragmentGroup++ : -1;
    const message = new OutgoingMessage(this.index, id, this.copies.copy(data), this.fragmentSize, this.wholeLimit, this.reliable);
    this.fresh.push(message);
    this.heldBytes += size;
    if (this.reliable) this.span.set(id, message);
    return message;
  }

  /** Throws SendError('message-too-large') for a message over the channel's maxMessageSize. */
  assertFits(size: number): void {
    if (size > this.config.maxMessageSize) {
      throw new SendError(
        'message-too-large',
        `message of ${size} bytes exceeds channel ${this.index}'s maxMessageSize of ${this.config.maxMessageSize}`,
      );
    }
  }

  /** Reliable kinds: whether a message of `size` bytes must wait (its bytes or the window are full). */
  blocked(size: number): boolean {
    return this.heldBytes + size > this.config.maxQueuedBytes || this.nextId - this.oldestUnacked >= this.config.window;
  }

  /** Why `blocked(size)`, for SendError's message. */
  blockedReason(size: number): string {
    return this.heldBytes + size > this.config.maxQueuedBytes
      ? `channel ${this.index} holds ${this.heldBytes} unacknowledged bytes; ${size} more would pass maxQueuedBytes (${this.config.maxQueuedBytes})`
      : `channel ${this.index} has ${this.config.window} messages in flight (its window); wait for acknowledgements`;
  }

  /** Unreliable kinds: a unit went out for good; its bytes no longer count against the cap. */
  releaseSent(bytes: number): void {
    if (!this.reliable) this.heldBytes -= bytes;
  }

  /** Reliable: a unit was acknowledged. Returns true when this completed the message. */
  onUnitAcked(message: OutgoingMessage, unit: number): boolean {
    if (!message.markAcked(unit) || !message.complete) return false;
    // Slide the span over every fully acknowledged message at its start.
    let m = this.span.get(this.oldestUnacked);
    while (m && m.complete && m.nextUnit >= m.units) {
      this.span.take(this.oldestUnacked);
      this.heldBytes -= m.data.length;
      this.oldestUnacked++;
      m = this.span.get(this.oldestUnacked);
    }
    return true;
  }

  /** Reliable: the packet that last carried this unit was lost; queue it again unless already handled. */
  requeue(message: OutgoingMessage, unit: number, lostPacket: number): boolean {
    if (message.isAcked(unit) || message.isRequeued(unit) || message.lastPacket(unit) !== lostPacket) return false;
    message.setRequeued(unit, true);
    this.resend.push({ message, unit });
    return true;
  }

  /** Reliable: a probe timeout wants this unit sent again, whichever packet carried it last. */
  reprobe(message: OutgoingMessage, unit: number): void {
    if (message.isAcked(unit) || message.isRequeued(unit)) return;
    message.setRequeued(unit, true);
    this.resend.push({ message, unit });
  }

  /** Redundancy: a unit went out (first time or resent); small ones are copied into the packets that follow. */
  noteSent(message: OutgoingMessage, unit: number, resent: boolean): void {
    const r = this.config.redundancy;
    const size = message.data.length;
    const copied = r.copies > 0 && size <= r.maxMessageSize;
    const resendCopy = resent && size <= (r.copies > 0 ? r.maxMessageSize : RESEND_COPY_MAX_SIZE);
    if (!copied && !resendCopy) return;
    const known = this.recent.findIndex((x) => x.message === message && x.unit === unit);
    if (known >= 0)
      this.recent.splice(known, 1); // resent: its copies start again
    else if (this.recent.length >= RECENT_UNITS) this.recent.shift();
    this.recent.push({ message, unit, copies: 0, minCopies: resendCopy ? RESEND_COPIES : 0 });
  }

  /** Messages held (reliable: unacknowledged; unreliable: unsent). */
  get heldMessages(): number {
    return this.reliable ? this.span.size : this.fresh.length;
  }

  get hasWork(): boolean {
    return this.fresh.length > 0 || this.resend.length > 0;
  }
}
