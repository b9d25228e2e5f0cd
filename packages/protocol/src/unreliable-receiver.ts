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

/** Makes room for `incoming` bytes: drops the oldest partials past the channel's byte cap or the count cap. */
export function dropPartials(
  fragments: Reassembly,
  ctx: ReceiveChannelContext,
  incoming: number,
  maxCount: number,
  channel: number,
  sink: ReceiveSink,
  toWire: (id: number) => number,
): void {
  for (const id of fragments.ids()) {
    if (fragments.bytes + incoming <= ctx.config.maxQueuedBytes && fragments.size < maxCount) break;
    fragments.delete(id);
    sink.dropped(channel, toWire(id), 'reassembly-cap');
  }
}

export class UnreliableReceiver implements ReceiveChannel {
  private readonly fragments: Reassembly;
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

  cost(): number {
    return 0;
  }

  check(record: MessageRecord): string | undefined {
    if (record.fragment) {
      const v = this.fragments.check(unwrap(record.id!, this.newestGroup), record.fragment, record.data);
      return v === 'ok' || v === 'duplicate' ? undefined : v;
    }
    return record.data.length > this.ctx.config.maxMessageSize ? 'message over maxMessageSize' : undefined;
  }

  accept(record: MessageRecord, now: number, sink: ReceiveSink): void {
    const ch = this.ctx.index;
    if (!record.fragment) {
      sink.deliver(ch, undefined, record.data.slice());
      return;
    }
    const id = unwrap(record.id!, this.newestGroup);
    if (this.fragments.check(id, record.fragment, record.data) === 'duplicate') return;
    if (!this.fragments.has(id)) dropPartials(this.fragments, this.ctx, record.data.length, MAX_PARTIAL_MESSAGES, ch, sink, wrap);
    if (id > this.newestGroup) this.newestGroup = id;
    const data = this.fragments.add(id, record.fragment, record.data, now);
    if (data) sink.deliver(ch, undefined, data);
  }

  expire(now: number, sink: ReceiveSink): void {
    for (const id of this.fragments.expire(now - this.ctx.reassemblyTimeout)) sink.dropped(this.ctx.index, wrap(id), 'reassembly-timeout');
  }
}
