/**
 * unreliable-sequenced receiving: deliver a message only if it is newer than every one delivered
 * before; older or repeated ones are dropped. Fragmented messages are delivered whole or not at all:
 * a partial one is abandoned when a newer message is delivered, after the reassembly timeout, or when
 * the partials pass the channel's byte cap.
 */

import { Reassembly } from './reassembly.js';
import type { ReceiveChannel, ReceiveChannelContext, ReceiveSink } from './receive-channel.js';
import type { MessageRecord } from './record.js';
import { unwrap, wrap } from './sequence.js';
import { makeRoom } from './unreliable-receiver.js';

export class SequencedReceiver implements ReceiveChannel {
  /** Newest id delivered (unwrapped); -1 before any. */
  private newest = -1;
  private readonly fragments: Reassembly;
  /** Unwrap reference for the packet being processed (set for late packets, see id-history.ts). */
  private ref: number | undefined;

  constructor(private readonly ctx: ReceiveChannelContext) {
    this.fragments = new Reassembly(ctx.config.maxMessageSize);
  }

  get bufferedMessages(): number {
    return this.fragments.size;
  }

  get bufferedBytes(): number {
    return this.fragments.bytes;
  }

  beginPacket(reference: number | undefined): void {
    this.fragments.beginPacket();
    this.ref = reference;
  }

  get highest(): number {
    return this.newest;
  }

  private idOf(record: MessageRecord): number {
    return unwrap(record.id!, this.ref ?? Math.max(this.newest, 0));
  }

  cost(): number {
    return 0;
  }

  check(record: MessageRecord): string | undefined {
    if (record.fragment) {
      const id = this.idOf(record);
      if (this.fragments.hasFragment(id, record.fragment.index)) return undefined;
      const v = this.fragments.check(id, record.fragment, record.data);
      if (v !== 'ok') return v;
      this.fragments.stage(id, record.fragment, record.data);
      return undefined;
    }
    return record.data.length > this.ctx.config.maxMessageSize ? 'message over maxMessageSize' : undefined;
  }

  accept(record: MessageRecord, now: number, sink: ReceiveSink): void {
    const ch = this.ctx.index;
    const id = this.idOf(record);
    if (id <= this.newest) {
      sink.dropped(ch, record.id, 'stale');
      return;
    }
    let data: Uint8Array | undefined;
    if (record.fragment) {
      if (this.fragments.hasFragment(id, record.fragment.index)) return;
      makeRoom(this.fragments, this.ctx, id, record.data.length, sink);
      data = this.fragments.add(id, record.fragment, record.data, now);
      if (!data) return;
    } else {
      data = record.data.slice();
    }
    this.newest = id;
    // Anything older still in reassembly can never be delivered now.
    for (const old of this.fragments.ids()) {
      if (old < id && this.fragments.delete(old)) sink.dropped(ch, wrap(old), 'stale');
    }
    sink.deliver(ch, wrap(id), data);
  }

  expire(now: number, sink: ReceiveSink): void {
    for (const id of this.fragments.expire(now, this.ctx.reassemblyTimeout)) sink.dropped(this.ctx.index, wrap(id), 'reassembly-timeout');
  }

  nextExpiry(): number {
    return this.fragments.oldestStart() + this.ctx.reassemblyTimeout;
  }
}
