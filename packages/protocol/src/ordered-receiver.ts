/**
 * reliable-ordered receiving: deliver message n only after 0..n−1; hold later ones (complete or in
 * fragments) until the gap fills. Bounded by the channel window (ids) and maxQueuedBytes (bytes).
 */

import { Reassembly } from './reassembly.js';
import type { ReceiveChannel, ReceiveChannelContext, ReceiveSink } from './receive-channel.js';
import type { MessageRecord } from './record.js';
import { SequenceRing } from './sequence-ring.js';
import { unwrap, wrap } from './sequence.js';

export class OrderedReceiver implements ReceiveChannel {
  /** Next id to deliver (unwrapped). */
  private next = 0;
  /** Complete messages held until the gap before them fills, by id (within the window: the ring's span). */
  private readonly waiting = new SequenceRing<Uint8Array>();
  private waitingBytes = 0;
  private readonly fragments: Reassembly;
  /** Unwrap reference for the packet being processed (set for late packets, see id-history.ts). */
  private ref: number | undefined;
  /** Highest id accepted (unwrapped); -1 before any. */
  private top = -1;

  constructor(private readonly ctx: ReceiveChannelContext) {
    this.fragments = new Reassembly(ctx.config.maxMessageSize);
  }

  get bufferedMessages(): number {
    return this.waiting.size + this.fragments.size;
  }

  get bufferedBytes(): number {
    return this.waitingBytes + this.fragments.bytes;
  }

  private isDuplicate(id: number, record: MessageRecord): boolean {
    if (id < this.next || this.waiting.get(id) !== undefined) return true;
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
    return unwrap(record.id!, this.ref ?? this.next);
  }

  cost(record: MessageRecord): number {
    const id = this.idOf(record);
    return this.isDuplicate(id, record) ? 0 : record.data.length;
  }

  check(record: MessageRecord, extra: number): string | undefined {
    const id = this.idOf(record);
    if (id >= this.next + this.ctx.config.window) {
      return `message ${wrap(id)} is ${id - this.next} ahead of the next expected (${wrap(this.next)}), past the window of ${this.ctx.config.window}`;
    }
    if (this.isDuplicate(id, record)) return undefined;
    if (record.fragment) {
      const v = this.fragments.check(id, record.fragment, record.data);
      if (v !== 'ok') return v;
      this.fragments.stage(id, record.fragment, record.data);
    } else if (record.data.length > this.ctx.config.maxMessageSize) {
      return `message of ${record.data.length} bytes over maxMessageSize`;
    }
    if (this.bufferedBytes + extra > this.ctx.config.maxQueuedBytes) {
      return `receive buffer would exceed maxQueuedBytes (${this.ctx.config.maxQueuedBytes})`;
    }
    return undefined;
  }

  accept(record: MessageRecord, now: number, sink: ReceiveSink): void {
    const ch = this.ctx.index;
    const id = this.idOf(record);
    if (this.isDuplicate(id, record)) {
      sink.duplicate(ch, record.id!);
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
    if (id !== this.next) {
      this.waiting.set(id, data);
      this.waitingBytes += data.length;
      sink.buffered(ch, wrap(id), wrap(this.next));
      return;
    }
    sink.deliver(ch, wrap(id), data);
    this.next++;
    let held = this.waiting.size > 0 ? this.waiting.take(this.next) : undefined;
    while (held) {
      this.waitingBytes -= held.length;
      sink.deliver(ch, wrap(this.next), held);
      this.next++;
      held = this.waiting.size > 0 ? this.waiting.take(this.next) : undefined;
    }
  }

  expire(): void {}

  nextExpiry(): number {
    return Infinity;
  }
}
