/**
 * unreliable receiving: deliver every message that arrives whole. Packet-level duplicate suppression
 * already guarantees nothing is delivered twice. Fragmented messages are all-or-nothing, with a
 * reassembly timeout and caps on partial messages (count and bytes).
 */

import { Reassembly } from './reassembly.js';
import type { ReceiveChannel, ReceiveChannelContext, ReceiveSink } from './receive-channel.js';
import type { MessageRecord } from './record.js';
import { unwrap, wrap } from './sequence.js';

/** Most partial (fragmented, incomplete) messages an unreliable channel keeps. */
export const MAX_PARTIAL_MESSAGES = 32;

/**
 * Makes room for `incoming` more bytes of partial message `id`: drops the oldest *other* partials while the
 * partials would pass the channel's byte cap, or (when `id` starts a new partial) the count cap.
 * Charged on every fragment, so partial messages never hold more than maxQueuedBytes.
 */
export function makeRoom(fragments: Reassembly, ctx: ReceiveChannelContext, id: number, incoming: number, sink: ReceiveSink): void {
  const isNew = !fragments.has(id);
  for (const old of fragments.ids()) {
    const overBytes = fragments.bytes + incoming > ctx.config.maxQueuedBytes;
    const overCount = isNew && fragments.size >= MAX_PARTIAL_MESSAGES;
    if (!overBytes && !overCount) break;
    if (old === id) continue;
    fragments.delete(old);
    sink.dropped(ctx.index, wrap(old), 'reassembly-cap');
  }
}

export class UnreliableReceiver implements ReceiveChannel {
  private readonly fragments: Reassembly;
  /** Unwrap reference for the packet being processed (set for late packets, see id-history.ts). */
  private ref: number | undefined;
  /** Reference for unwrapping fragment-group ids (the newest seen). */
  private newestGroup = 0;

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
    return this.newestGroup;
  }

  cost(): number {
    return 0;
  }

  check(record: MessageRecord): string | undefined {
    if (record.fragment) {
      const id = unwrap(record.id!, this.ref ?? this.newestGroup);
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
    if (!record.fragment) {
      sink.deliver(ch, undefined, record.data.slice());
      return;
    }
    const id = unwrap(record.id!, this.ref ?? this.newestGroup);
    if (this.fragments.hasFragment(id, record.fragment.index)) return;
    makeRoom(this.fragments, this.ctx, id, record.data.length, sink);
    if (id > this.newestGroup) this.newestGroup = id;
    const data = this.fragments.add(id, record.fragment, record.data, now);
    if (data) sink.deliver(ch, undefined, data);
  }

  expire(now: number, sink: ReceiveSink): void {
    for (const id of this.fragments.expire(now, this.ctx.reassemblyTimeout)) sink.dropped(this.ctx.index, wrap(id), 'reassembly-timeout');
  }

  nextExpiry(): number {
    return this.fragments.oldestStart() + this.ctx.reassemblyTimeout;
  }
}
