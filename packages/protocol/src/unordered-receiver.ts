/**
 * reliable-unordered receiving: deliver each message as soon as it is whole, exactly once.
 * Remembers which ids in [base, base + window) arrived; base moves past every id received in a row,
 * so the memory is one bit per window slot whatever the peer sends.
 */

import { Reassembly } from './reassembly.js';
import type { ReceiveChannel, ReceiveChannelContext, ReceiveSink } from './receive-channel.js';
import type { MessageRecord } from './record.js';
import { unwrap, wrap } from './sequence.js';

export class UnorderedReceiver implements ReceiveChannel {
  /** Lowest id not yet received (unwrapped). */
  private base = 0;
  private readonly received: Uint8Array;
  private readonly fragments: Reassembly;
  /** Unwrap reference for the packet being processed (set for late packets, see id-history.ts). */
  private ref: number | undefined;
  /** Highest id accepted (unwrapped); -1 before any. */
  private top = -1;

  constructor(private readonly ctx: ReceiveChannelContext) {
    this.received = new Uint8Array(ctx.config.window);
    this.fragments = new Reassembly(ctx.config.maxMessageSize);
  }

  get bufferedMessages(): number {
    return this.fragments.size;
  }

  get bufferedBytes(): number {
    return this.fragments.bytes;
  }

  private slot(id: number): number {
    return id % this.received.length;
  }

  private isDuplicate(id: number, record: MessageRecord): boolean {
    if (id < this.base || this.received[this.slot(id)]) return true;
    return record.fragment !== undefined && this.fragments.hasFragment(id, record.fragment.index);
  }

  beginPacket(reference: number | undefined): void {
    this.fragments.beginPacket();
    this.ref = reference;
  }

  get highest(): number {
    return this.top;
  }

  private idOf(record: MessageRecord): number {
    return unwrap(record.id!, this.ref ?? this.base);
  }

  cost(record: MessageRecord): number {
    const id = this.idOf(record);
    return record.fragment && !this.isDuplicate(id, record) ? record.data.length : 0;
  }

  check(record: MessageRecord, extra: number): string | undefined {
    const id = this.idOf(record);
    if (id >= this.base + this.ctx.config.window) {
      return `message ${wrap(id)} is ${id - this.base} ahead of the oldest missing (${wrap(this.base)}), past the window of ${this.ctx.config.window}`;
    }
    if (this.isDuplicate(id, record)) return undefined;
    if (record.fragment) {
      const v = this.fragments.check(id, record.fragment, record.data);
      if (v !== 'ok') return v;
      this.fragments.stage(id, record.fragment, record.data);
      if (this.fragments.bytes + extra > this.ctx.config.maxQueuedBytes) {
        return `reassembly would exceed maxQueuedBytes (${this.ctx.config.maxQueuedBytes})`;
      }
    } else if (record.data.length > this.ctx.config.maxMessageSize) {
      return `message of ${record.data.length} bytes over maxMessageSize`;
    }
    return undefined;
  }

  accept(record: MessageRecord, now: number, sink: ReceiveSink): void {
    const id = this.idOf(record);
    if (this.isDuplicate(id, record)) {
      sink.duplicate(this.ctx.index, record.id!);
      return;
    }
    if (id > this.top) this.top = id;
    let data: Uint8Array | undefined;
    if (record.fragment) {
      data = this.fragments.add(id, record.fragment, record.data, now);
      if (!data) return;
    } else {
      data = record.data.slice();
      this.fragments.delete(id); // a whole copy supersedes any (forged) partial one
    }
    this.received[this.slot(id)] = 1;
    while (this.received[this.slot(this.base)]) {
      this.received[this.slot(this.base)] = 0;
      this.base++;
    }
    sink.deliver(this.ctx.index, wrap(id), data);
  }

  expire(): void {}

  nextExpiry(): number {
    return Infinity;
  }
}
