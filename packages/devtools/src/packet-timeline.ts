/**
 * The packet timeline: one entry per packet sent, received, acknowledged, lost or dropped by the link, and
 * per message resent, held back (buffered) or delivered — the story of one session, read from its own
 * protocol trace (`connect(url, { protocol: { trace: timeline.trace } })`, a trace of this session only)
 * and, when a link conditioner is in the way, from what the conditioner saw (`timeline.watch(conditioner)`):
 * the packets it dropped, and which message each record carries ("shot", "chat"), so a line can say
 * "packet #812 arrived: shot (message 45)".
 *
 * Entries are kept in a ring (the last `capacity`), so memory is fixed; `onEntry` hears each one as it
 * happens; `describe(entry)` is its line in plain words; `report()` the whole timeline as JSON.
 */

import { CONTROL_CHANNEL, STANDARD_CHANNELS, type ChannelOptions, type TraceEvent, type TraceListener } from '@volley/protocol';
import type { ConditionerEvent, LinkConditioner, ObservedMessage } from './link-conditioner.js';

export type TimelineKind =
  /** A packet this side sent: the peer's packets it acknowledges (`acks`) and the messages it carries. */
  | 'sent'
  /** A packet from the peer: the messages it carries (`again` on a message seen in an earlier packet). */
  | 'received'
  /** A packet this side sent was acknowledged by the peer (`rtt`). */
  | 'acked'
  /** A packet this side sent was declared lost (`reason`); its reliable messages go again. */
  | 'lost'
  /** A reliable message of ours sent again in a new packet (`seq`), first sent in `previousSeq`. */
  | 'resent'
  /** A message from the peer held back: it may not be delivered before message `waitingFor`. */
  | 'buffered'
  /** A message from the peer handed to the game. */
  | 'delivered'
  /** A second copy of a message already delivered, discarded. */
  | 'duplicate'
  /** A message given up (`reason`: a full queue, stale, an unfinished reassembly). */
  | 'dropped'
  /** The link conditioner dropped a packet on its way (`direction`, `reason`). */
  | 'link-drop';

export interface TimelineMessage {
  channel: number;
  /** The message id (16-bit), on channels whose messages carry one. */
  id?: number;
  /** [index, count] of a fragment. */
  fragment?: [number, number];
  size: number;
  /** Received: this message id was already carried by an earlier packet (so this is a resend or a copy). */
  again?: boolean;
}

export interface TimelineEntry {
  /** Running number of the entry (from 1). */
  n: number;
  /** Time (ms) on the session's clock (the protocol trace's `t`; the conditioner's clock for link drops). */
  t: number;
  kind: TimelineKind;
  /** Packet number. */
  seq?: number;
  /** Message (buffered, delivered, resent, duplicate, dropped). */
  channel?: number;
  id?: number;
  waitingFor?: number;
  previousSeq?: number;
  /** 'sent': the peer's packets acknowledged for the first time by this packet. */
  acks?: number[];
  messages?: TimelineMessage[];
  rtt?: number;
  reason?: string;
  /** 'link-drop': 'up' (to the server) or 'down' (to this side). */
  direction?: 'up' | 'down';
  size?: number;
}

export interface PacketTimelineOptions {
  /** Entries kept (default 4000). */
  capacity?: number;
  /** The session's channel layout, for channel names (default: the SDKs' standard layout). */
  channels?: readonly ChannelOptions[];
  /** A message's label from its type and value, e.g. `(type, v) => type === 'shot' ? \`shot by ${v.by}\` : type`. */
  describe?: (type: string, value: unknown) => string;
}

const LINK_DROP_REASONS: Record<string, string> = {
  rule: 'dropped on purpose',
  loss: 'random loss',
  burst: 'a loss burst',
  queue: 'bandwidth queue full',
  outage: 'disconnected',
};

/** Labels remembered per direction and message (channel:id), for so many messages. */
const LABELS_KEPT = 4096;

export class PacketTimeline {
  /** The trace listener to give the client (protocol.trace). */
  readonly trace: TraceListener;
  private readonly ring: (TimelineEntry | undefined)[];
  private next = 0;
  private count = 0;
  private readonly listeners = new Set<(entry: TimelineEntry) => void>();
  /** Channel names by index: their kinds, and 'control' for the protocol's own records (pings, acks of pings). */
  private readonly channelKinds: string[];
  private readonly describeMessage: (type: string, value: unknown) => string;
  /** `${direction}:${channel}:${id}` → label, oldest first. */
  private readonly labels = new Map<string, string>();
  /** Message ids received (channel:id), to tell a resend when it arrives. */
  private readonly seen = new Map<string, number>();
  /** Messages held back now (channel:id). */
  private readonly heldNow = new Set<string>();

  constructor(options: PacketTimelineOptions = {}) {
    const capacity = options.capacity ?? 4000;
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<TimelineEntry | undefined>(capacity);
    this.channelKinds = (options.channels ?? STANDARD_CHANNELS).map((c) => c.kind);
    this.channelKinds[CONTROL_CHANNEL] = 'control';
    this.describeMessage = options.describe ?? ((type) => type);
    this.trace = (e) => this.onTrace(e);
  }

  /** Labels messages and records link drops from what `conditioner` sees. Returns a function that stops it. */
  watch(conditioner: LinkConditioner): () => void {
    return conditioner.observe((e) => this.onLink(e));
  }

  /** Hears every new entry; returns a function that stops it. */
  onEntry(listener: (entry: TimelineEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The entries kept, oldest first. */
  entries(): TimelineEntry[] {
    const out: TimelineEntry[] = [];
    const size = this.ring.length;
    for (let i = this.count < size ? 0 : this.next, k = 0; k < Math.min(this.count, size); k++, i = (i + 1) % size) out.push(this.ring[i]!);
    return out;
  }

  /** How many messages from the peer are held back right now, waiting for an earlier one. */
  get held(): number {
    return this.heldNow.size;
  }

  /** A message's label, if the conditioner saw it: 'down' for the peer's messages, 'up' for ours. */
  label(direction: 'up' | 'down', channel: number, id: number | undefined): string | undefined {
    return id === undefined ? undefined : this.labels.get(`${direction}:${channel}:${id}`);
  }

  /** The entry's line in plain words. */
  describe(e: TimelineEntry): string {
    const msg = (direction: 'up' | 'down', channel: number | undefined, id: number | undefined) => {
      const label = channel === undefined ? undefined : this.label(direction, channel, id);
      const where = channel === undefined ? '' : (this.channelKinds[channel] ?? `channel ${channel}`);
      return `${label ? `${label} ` : ''}(message ${id ?? '–'} on ${where})`;
    };
    const list = (direction: 'up' | 'down', ms: readonly TimelineMessage[] | undefined) =>
      (ms ?? []).map((m) => {
        const label = this.label(direction, m.channel, m.id);
        const name = label ?? this.channelKinds[m.channel] ?? `channel ${m.channel}`;
        const id = m.id !== undefined ? ` #${m.id}` : '';
        const part = m.fragment ? ` part ${m.fragment[0] + 1}/${m.fragment[1]}` : '';
        return `${name}${id}${part}${m.again ? ' again (a resend)' : ''}`;
      });
    switch (e.kind) {
      case 'sent': {
        const parts = [...(e.acks?.length ? [`acknowledges ${e.acks.map((a) => `#${a}`).join(', ')}`] : []), ...list('up', e.messages)];
        return `↑ packet #${e.seq} sent${parts.length ? `: ${parts.join('; ')}` : ''}`;
      }
      case 'received': {
        const parts = list('down', e.messages);
        return `↓ packet #${e.seq} arrived${parts.length ? `: ${parts.join('; ')}` : ' (acknowledgements only)'}`;
      }
      case 'acked':
        return `✓ our packet #${e.seq} was acknowledged (round trip ${Math.round(e.rtt ?? 0)} ms)`;
      case 'lost':
        return `✕ our packet #${e.seq} is taken as lost (${e.reason}); what it carried goes again`;
      case 'resent':
        return `↻ ${msg('up', e.channel, e.id)} sent again in packet #${e.seq} (first in #${e.previousSeq})`;
      case 'buffered':
        return `‖ ${msg('down', e.channel, e.id)} held back: it must wait for message ${e.waitingFor}`;
      case 'delivered':
        return `▶ ${msg('down', e.channel, e.id)} delivered to the game`;
      case 'duplicate':
        return `= ${msg('down', e.channel, e.id)} arrived again and was discarded (already delivered)`;
      case 'dropped':
        return `✕ ${msg('down', e.channel, e.id)} given up (${e.reason})`;
      case 'link-drop': {
        const way = e.direction === 'down' ? 'on its way here' : 'on its way to the server';
        const parts = list(e.direction ?? 'down', e.messages);
        const why = LINK_DROP_REASONS[e.reason ?? ''] ?? e.reason;
        return `✕ packet ${e.seq !== undefined ? `#${e.seq}` : '(control)'} lost ${way} (link conditioner: ${why})${parts.length ? `: ${parts.join('; ')}` : ''}`;
      }
    }
  }

  /** The timeline as JSON, each entry with its line. */
  report(): string {
    return JSON.stringify(this.entries().map((e) => ({ ...e, text: this.describe(e) })));
  }

  /** Forgets every entry (the labels stay). */
  clear(): void {
    this.ring.fill(undefined);
    this.next = 0;
    this.count = 0;
  }

  private add(entry: Omit<TimelineEntry, 'n'>): void {
    const e = { n: this.count + 1, ...entry };
    this.ring[this.next] = e;
    this.next = (this.next + 1) % this.ring.length;
    this.count++;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        console.error('packet timeline: a listener threw', err);
      }
    }
  }

  private onTrace(e: TraceEvent): void {
    switch (e.type) {
      case 'packet-sent':
        return this.add({
          t: e.t,
          kind: 'sent',
          seq: e.seq,
          size: e.size,
          acks: e.acked,
          messages: e.records.map((r) => messageOf(r)),
        });
      case 'packet-received':
        return this.add({
          t: e.t,
          kind: 'received',
          seq: e.seq,
          size: e.size,
          messages: e.records.map((r) => {
            const m = messageOf(r);
            if (r.id === undefined || (r.fragment && r.fragment[0] !== 0)) return m;
            const key = `${r.channel}:${r.id}`;
            if (this.seen.has(key)) m.again = true;
            remember(this.seen, key, e.seq);
            return m;
          }),
        });
      case 'packet-acked':
        return this.add({ t: e.t, kind: 'acked', seq: e.seq, rtt: e.rtt });
      case 'packet-lost':
        return this.add({ t: e.t, kind: 'lost', seq: e.seq, reason: e.reason });
      case 'message-retransmitted':
        return this.add({ t: e.t, kind: 'resent', channel: e.channel, id: e.id, seq: e.seq, previousSeq: e.previousSeq });
      case 'message-buffered':
        this.heldNow.add(`${e.channel}:${e.id}`);
        return this.add({ t: e.t, kind: 'buffered', channel: e.channel, id: e.id, waitingFor: e.waitingFor });
      case 'message-delivered':
        if (e.id !== undefined) this.heldNow.delete(`${e.channel}:${e.id}`);
        return this.add({ t: e.t, kind: 'delivered', channel: e.channel, ...(e.id !== undefined ? { id: e.id } : {}), size: e.size });
      case 'message-duplicate':
        return this.add({ t: e.t, kind: 'duplicate', channel: e.channel, id: e.id });
      case 'message-dropped':
        if (e.id !== undefined) this.heldNow.delete(`${e.channel}:${e.id}`);
        return this.add({ t: e.t, kind: 'dropped', channel: e.channel, ...(e.id !== undefined ? { id: e.id } : {}), reason: e.reason });
      default:
        return;
    }
  }

  private onLink(e: ConditionerEvent): void {
    for (const m of e.messages) this.labelMessage(e.direction, m);
    if (e.type !== 'drop') return;
    this.add({
      t: e.time,
      kind: 'link-drop',
      direction: e.direction,
      ...(e.seq !== undefined ? { seq: e.seq } : {}),
      reason: e.reason ?? 'loss',
      size: e.size,
      messages: e.messages.map((m) => ({ channel: m.channel, ...(m.id !== undefined ? { id: m.id } : {}), size: 0 })),
    });
  }

  private labelMessage(direction: 'up' | 'down', m: ObservedMessage): void {
    if (m.id === undefined) return;
    const key = `${direction}:${m.channel}:${m.id}`;
    let label: string;
    try {
      label = this.describeMessage(m.type, m.value());
    } catch {
      label = m.type;
    }
    remember(this.labels, key, label);
  }
}

function messageOf(r: { channel: number; id?: number; fragment?: [number, number]; size: number }): TimelineMessage {
  return {
    channel: r.channel,
    ...(r.id !== undefined ? { id: r.id } : {}),
    ...(r.fragment ? { fragment: r.fragment } : {}),
    size: r.size,
  };
}

/** Sets `key` in an insertion-ordered map kept to LABELS_KEPT entries (the oldest go). */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > LABELS_KEPT) map.delete(map.keys().next().value!);
}
