/**
 * A link conditioner around a client's real transports: `connect(url, { wrap: conditioner.wrap })`. Every
 * datagram the session sends or receives goes through the protocol's LinkSimulator (the same conditions,
 * names and seeded draws as the simulated tests: latency, jitter, loss, bursts, duplication, reordering,
 * bandwidth), driven by the real clock. Settings change live (`set`, `preset`), `disconnect(ms)` cuts
 * the link both ways for a while, and `dropNext(type)` drops the next datagram carrying a message of that
 * type (a plain message or a room's), for showing what the protocol does about one lost packet.
 *
 * On the server, `new Server({ wrapLink: conditioner.wrapLink })` puts the same conditions on every client's
 * link ('down' is still server to client).
 *
 * On a reliable transport (WebSocket, long-polling) nothing may be lost, duplicated or reordered — the
 * protocol runs there without retransmission, as TCP does it below — so only latency and bandwidth apply,
 * and a disconnect holds the datagrams until it ends (what TCP does through a short outage).
 */

import type { ClientTransport, TransportKind } from '@volley/client';
import {
  CONTROL_CHANNEL,
  STANDARD_CHANNELS,
  type ChannelOptions,
  decodeEnvelope,
  decodeRoomFrame,
  decodeValue,
  inspectPacket,
  isRoomFrame,
  LinkSimulator,
  type DatagramInfo,
  type LinkConditions,
  type LinkDirection,
} from '@volley/protocol';

/** What the conditioner wraps: any ClientTransport of @volley/client. */
export type ConditionableTransport = ClientTransport;

/** A server's link to one client (a TransportLink of @volley/server), as `wrapLink` wraps it. */
export interface ConditionableLink {
  readonly kind: TransportKind;
  readonly reliable: boolean;
  readonly remote: string;
  send(datagram: Uint8Array): void;
  close(): void;
  onDatagram: (datagram: Uint8Array) => void;
  onClose: (reason: string) => void;
}

/** Named conditions, each way: from a quiet LAN to a congested mobile link. */
export const LINK_PRESETS = {
  lan: { latency: 1, jitter: 1 },
  broadband: { latency: 15, jitter: 4, loss: 0.001 },
  '4g': { latency: 40, jitter: 15, loss: 0.01 },
  '3g': { latency: 100, jitter: 40, loss: 0.02, bandwidth: 96_000 },
  congested: { latency: 80, jitter: 60, loss: 0.05, burst: { enter: 0.02, exit: 0.3 }, bandwidth: 48_000 },
} as const satisfies Record<string, LinkConditions>;
export type LinkPreset = keyof typeof LINK_PRESETS;

export interface LinkConditionerOptions {
  /** Seed of the random draws (default 1): the same seed and the same sends give the same drops. */
  seed?: number;
  /** The clock (default performance.now). */
  now?: () => number;
  /** The session's channel layout, to read the packets (default: the SDKs' standard layout). */
  channels?: readonly ChannelOptions[];
}

/** A message seen in a datagram by the conditioner: its channel, id (where the channel has ids), type and value. */
export interface ObservedMessage {
  channel: number;
  id?: number;
  type: string;
  /** The message's MessagePack value, decoded on demand (undefined if it does not decode). */
  value(): unknown;
}

/** What the conditioner did with one datagram, as `observe` reports it. */
export interface ConditionerEvent {
  /** 'pass': on its way (after the latency); 'drop': the conditioner dropped it. */
  type: 'pass' | 'drop';
  /** 'loss', 'burst', 'queue' (bandwidth), 'outage' (disconnect) or 'rule' (a dropNext). */
  reason?: 'loss' | 'burst' | 'queue' | 'outage' | 'rule';
  direction: 'up' | 'down';
  /** When it entered the conditioner (ms, the conditioner's clock). */
  time: number;
  /** When it leaves, for a datagram that passes. */
  deliverAt?: number;
  /** A second copy the conditioner made (duplication). */
  duplicate?: boolean;
  size: number;
  /** The packet number of a data packet. */
  seq?: number;
  /** The messages it carries (first fragments and whole messages; control records left out). */
  messages: ObservedMessage[];
}

export type ConditionerListener = (event: ConditionerEvent) => void;

export interface DropNextOptions {
  /** Which way: 'down' (server to client), 'up', or 'either' (default). */
  direction?: 'down' | 'up' | 'either';
  /** Only a message whose MessagePack value passes (e.g. `(shot) => shot.shooter === b`). */
  where?: (value: unknown) => boolean;
}

interface PendingDrop {
  type: string;
  direction: 'down' | 'up' | 'either';
  where: ((value: unknown) => boolean) | undefined;
  done: (seq: number) => void;
}

export interface ConditionerStats {
  sent: number;
  received: number;
  /** Datagrams the conditioner dropped (loss, bursts, a disconnect, a full bottleneck), both ways. */
  dropped: number;
}

interface Lane {
  link: LinkSimulator;
  reliable: boolean;
}

export class LinkConditioner {
  readonly stats: ConditionerStats = { sent: 0, received: 0, dropped: 0 };
  private conditions: LinkConditions = {};
  private readonly seed: number;
  private readonly now: () => number;
  private outageUntil = -Infinity;
  private generation = 0;
  /** Every live wrapped transport, so a change of settings reaches them. */
  private readonly live = new Set<ConditionedTransport>();
  private readonly drops: PendingDrop[] = [];
  private readonly listeners = new Set<ConditionerListener>();
  private readonly idChannels: number[];
  /** `wrap` for connect(): `connect(url, { wrap: conditioner.wrap })`. */
  readonly wrap: <T extends ConditionableTransport>(transport: T) => T;
  /** `wrapLink` for a server: `new Server({ wrapLink: conditioner.wrapLink })`, every client's link conditioned. */
  readonly wrapLink: <L extends ConditionableLink>(link: L) => L;

  constructor(conditions: LinkConditions | LinkPreset = {}, options: LinkConditionerOptions = {}) {
    this.seed = options.seed ?? 1;
    this.now = options.now ?? (() => performance.now());
    this.idChannels = (options.channels ?? STANDARD_CHANNELS).flatMap((c, i) => (c.kind === 'unreliable' ? [] : [i]));
    this.set(typeof conditions === 'string' ? LINK_PRESETS[conditions] : conditions);
    this.wrap = (transport) => {
      const t = new ConditionedTransport(transport, this, 'client');
      this.live.add(t);
      return t as unknown as typeof transport;
    };
    this.wrapLink = (link) => {
      const t = new ConditionedTransport(link, this, 'server');
      this.live.add(t);
      return t as unknown as typeof link;
    };
  }

  /** The conditions each way now. */
  get settings(): LinkConditions {
    return this.conditions;
  }

  /** New conditions, at once (datagrams already in flight arrive as they were going to). Throws on bad values. */
  set(conditions: LinkConditions): void {
    new LinkSimulator({ seed: 0, conditions }); // validates, with the simulator's own messages
    this.conditions = { ...conditions };
    this.generation++;
    for (const t of this.live) t.renew();
  }

  preset(name: LinkPreset): void {
    if (!(name in LINK_PRESETS)) throw new RangeError(`no link preset '${String(name)}' (${Object.keys(LINK_PRESETS).join(', ')})`);
    this.set(LINK_PRESETS[name]);
  }

  /** Cuts the link both ways for `ms` from now. */
  disconnect(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`disconnect: ms must be ≥ 0, got ${ms}`);
    this.outageUntil = this.now() + ms;
  }

  /**
   * Drops the next datagram (on an unreliable transport: WebRTC, UDP) that carries a message of `type`;
   * resolves with that packet's number once it did. On a reliable transport nothing is dropped: the drop
   * waits for an unreliable one.
   */
  dropNext(type: string, options: DropNextOptions = {}): Promise<number> {
    return new Promise((resolve) => {
      this.drops.push({ type, direction: options.direction ?? 'either', where: options.where, done: resolve });
    });
  }

  /**
   * Calls `listener` for every datagram the conditioner passes or drops, with the packet number and the
   * messages it carries (the packet timeline labels messages with these). Returns a function that stops it.
   */
  observe(listener: ConditionerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal Whether anyone observes (the transports read packets only then). */
  get observed(): boolean {
    return this.listeners.size > 0;
  }

  /** @internal */
  emit(event: ConditionerEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        console.error('link conditioner: an observer threw', e);
      }
    }
  }

  /** @internal A datagram's packet number and messages (undefined seq for control and unreadable packets). */
  read(bytes: Uint8Array, up: boolean): { seq?: number; messages: ObservedMessage[] } {
    const summary = inspectPacket(bytes, this.idChannels);
    if (summary.kind !== 'data') return { messages: [] };
    const messages: ObservedMessage[] = [];
    for (const record of summary.records) {
      if (record.channel === CONTROL_CHANNEL || (record.fragment && record.fragment.index !== 0)) continue;
      const message = messageOf(record.data, up);
      if (!message) continue;
      messages.push({
        channel: record.channel,
        ...(record.id !== undefined ? { id: record.id } : {}),
        type: message.type,
        value: message.value,
      });
    }
    return { seq: summary.header.sequence, messages };
  }

  /** @internal The drop rule: whether this datagram carries a message a pending dropNext wants. */
  takeDrop(d: DatagramInfo, side: Side): boolean {
    if (this.drops.length === 0) return false;
    const up = (d.direction === 'a-to-b') === (side === 'client');
    const { seq, messages } = this.read(d.bytes, up);
    if (seq === undefined) return false;
    for (const message of messages) {
      const i = this.drops.findIndex(
        (p) =>
          p.type === message.type &&
          (p.direction === 'either' || (p.direction === 'up') === up) &&
          (!p.where || safe(p.where, message.value)),
      );
      if (i < 0) continue;
      const [drop] = this.drops.splice(i, 1);
      drop!.done(seq);
      return true;
    }
    return false;
  }

  /** @internal */
  clock(): number {
    return this.now();
  }

  /** @internal */
  outageEnd(): number {
    return this.outageUntil;
  }

  /** @internal A simulator for one transport with the current conditions. */
  lane(reliable: boolean, index: number, side: Side): Lane {
    const c = this.conditions;
    const conditions: LinkConditions = reliable
      ? { latency: c.latency ?? 0, ...(c.bandwidth ? { bandwidth: c.bandwidth, queueLimit: Infinity } : {}) }
      : c;
    // The first rule only notes the datagram, so the trace event that follows can be reported with its contents.
    let seen: DatagramInfo | undefined;
    let ruleReason: 'outage' | 'rule' = 'rule';
    const note = (d: DatagramInfo) => {
      seen = this.observed ? d : undefined;
      return false;
    };
    const outage = (d: DatagramInfo) => {
      ruleReason = 'outage';
      return d.time < this.outageUntil;
    };
    const dropRule = (d: DatagramInfo) => {
      ruleReason = 'rule';
      return this.takeDrop(d, side);
    };
    const rules = reliable ? [note] : [note, outage, dropRule];
    const link = new LinkSimulator({
      seed: (this.seed + this.generation * 7919 + index * 104_729) | 0,
      conditions,
      rules,
      trace: (e) => {
        if (e.type === 'drop') this.stats.dropped++;
        if (!seen || seen.index !== e.index || seen.direction !== e.direction) return;
        const up = (e.direction === 'a-to-b') === (side === 'client');
        const { seq, messages } = this.read(seen.bytes, up);
        this.emit({
          type: e.type,
          ...(e.type === 'drop'
            ? { reason: e.reason === 'rule' ? ruleReason : e.reason }
            : { deliverAt: e.deliverAt, ...(e.duplicate ? { duplicate: true } : {}) }),
          direction: up ? 'up' : 'down',
          time: e.time,
          size: e.size,
          ...(seq !== undefined ? { seq } : {}),
          messages,
        });
      },
    });
    return { link, reliable };
  }

  /** @internal */
  forget(t: ConditionedTransport): void {
    this.live.delete(t);
  }
}

/** A record's message: its type and value, whether a plain message or a room's MESSAGE frame; undefined if neither. */
function messageOf(data: Uint8Array, fromClient: boolean): { type: string; value: () => unknown } | undefined {
  try {
    if (isRoomFrame(data)) {
      const f = decodeRoomFrame(data, fromClient ? 'client' : 'server');
      if (f.op !== 'message' && f.op !== 'send') return undefined;
      const body = f.body;
      return { type: f.type, value: () => (f.raw ? body : decoded(body)) };
    }
    const e = decodeEnvelope(data);
    return { type: e.type, value: () => (e.raw ? e.body : decoded(e.body)) };
  } catch {
    return undefined;
  }
}

function decoded(body: Uint8Array): unknown {
  try {
    return decodeValue(body);
  } catch {
    return undefined;
  }
}

function safe(where: (value: unknown) => boolean, value: () => unknown): boolean {
  try {
    return where(value());
  } catch {
    return false;
  }
}

/** Which end the conditioner sits at: a client's transport ('a-to-b' is up) or a server's link ('a-to-b' is down). */
type Side = 'client' | 'server';

let transports = 0;

/** One real transport or link, its datagrams through the conditioner's simulator both ways ('a-to-b': what it sends). */
class ConditionedTransport implements ConditionableTransport, ConditionableLink {
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  private lanes: Lane[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private readonly index = transports++;

  constructor(
    private readonly inner: ConditionableTransport | ConditionableLink,
    private readonly owner: LinkConditioner,
    private readonly side: Side,
  ) {
    inner.onDatagram = (d) => this.enter('b-to-a', d);
    inner.onClose = (reason) => {
      this.stop();
      this.onClose(reason);
    };
    this.renew();
  }

  get kind(): TransportKind {
    return this.inner.kind;
  }

  get reliable(): boolean {
    return this.inner.reliable;
  }

  get remote(): string {
    return 'remote' in this.inner ? this.inner.remote : '';
  }

  open(signal: AbortSignal): Promise<void> {
    if (!('open' in this.inner)) return Promise.reject(new Error('a server link is open already'));
    return this.inner.open(signal);
  }

  send(datagram: Uint8Array): void {
    if (this.closed) return;
    this.owner.stats.sent++;
    this.enter('a-to-b', datagram);
  }

  close(): void {
    this.stop();
    this.inner.close();
  }

  /** New settings: a new simulator for what is sent from now on; the old ones deliver what they hold. */
  renew(): void {
    this.lanes.push(this.owner.lane(this.inner.reliable, this.index, this.side));
  }

  private enter(direction: LinkDirection, datagram: Uint8Array): void {
    if (this.closed) return;
    const lane = this.lanes[this.lanes.length - 1]!;
    const now = this.owner.clock();
    // Reliable: an outage holds the datagram until it ends; unreliable: the simulator's rule drops it.
    const at = lane.reliable ? Math.max(now, this.owner.outageEnd()) : now;
    lane.link.send(direction, datagram, at);
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    let next = Infinity;
    for (const l of this.lanes) next = Math.min(next, l.link.nextDeliveryTime());
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.flush(), Math.max(0, next - this.owner.clock()));
  }

  private flush(): void {
    if (this.closed) return;
    const now = this.owner.clock();
    for (const l of this.lanes) {
      for (const { direction, datagram } of l.link.deliver(now)) {
        if (direction === 'a-to-b') this.inner.send(datagram);
        else {
          this.owner.stats.received++;
          this.onDatagram(datagram);
        }
      }
    }
    // Old simulators go once they are empty.
    this.lanes = this.lanes.filter((l, i) => i === this.lanes.length - 1 || l.link.inFlight > 0);
    this.schedule();
  }

  private stop(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.owner.forget(this);
  }
}
