/**
 * A Connection: one end of a Volley link, as a sans-I/O state machine (like quinn-proto).
 *
 * The host owns the socket and the clock. It feeds received datagrams with `handle(datagram, now)`,
 * collects datagrams to send with `poll(now)`, reads events with `pollEvent()`, and calls `poll` again
 * no later than `nextTimeout()`. Nothing in here reads a clock, sets a timer, draws a random number or
 * touches the network: time is passed in, randomness is injected (options.random or options.nonce).
 *
 * Lifecycle: client `connect()` → CONNECT (retried) → server host sees a 'connect-request' event and
 * calls `accept()` or `reject()` → ACCEPT → both 'connected' → `disconnect()` or timeout → 'disconnected'.
 * The pieces live beside it: handshake.ts (CONNECT/ACCEPT/REJECT), timer-table.ts (every timer),
 * incoming-packet.ts (decoding and checking a received packet before anything changes).
 */

import { ACK_DELAY_MAX_MS, packetKindOf, PacketKind, type AckInfo } from './header.js';
import { DecodeError } from './bytes.js';
import { carriesIds, channelSpec, compareLayouts, type ChannelConfig } from './channel-config.js';
import { resolveOptions, type ConnectionOptions, type ResolvedOptions } from './connection-options.js';
import { buildStats, newCounters, type ConnectionStats, type Counters } from './connection-stats.js';
import { decodeControl, encodeControl, PROTOCOL_VERSION, SESSION_TOKEN_SIZE, type ControlPacket } from './control.js';
import { encodePing, encodePong, type ControlRecord } from './control-record.js';
import { ConfigError, SendError, StateError } from './errors.js';
import { ClientHandshake, ServerHandshake } from './handshake.js';
import { IdHistory } from './id-history.js';
import { checkIncoming, type IncomingContext } from './incoming-packet.js';
import { CongestionController } from './congestion-controller.js';
import { LossDetection, PROBE_PACKETS } from './loss-detection.js';
import { OrderedReceiver } from './ordered-receiver.js';
import type { OutgoingMessage } from './outgoing-message.js';
import { PacketAssembler, type DataAllowance } from './packet-assembler.js';
import { PingResponder, PingTracker } from './ping.js';
import { Queue } from './queue.js';
import { DisconnectReason } from './reason.js';
import type { ReceiveChannel, ReceiveChannelContext, ReceiveSink } from './receive-channel.js';
import { ReceivedPackets, type AckUrgency } from './received-packets.js';
import { CONTROL_CHANNEL, RecordPool, type ChannelIdMode, type MessageRecord } from './record.js';
import { RttEstimator } from './rtt-estimator.js';
import { SampleWindow } from './sample-window.js';
import { SendChannel } from './send-channel.js';
import { SentPackets, type SentPacket } from './sent-packets.js';
import { SequencedReceiver } from './sequenced-receiver.js';
import { wrap } from './sequence.js';
import { isDue, Timer, TimerTable } from './timer-table.js';
import type { ControlName, TraceListener } from './trace.js';
import { UnorderedReceiver } from './unordered-receiver.js';
import { UnreliableReceiver } from './unreliable-receiver.js';

export type ConnectionRole = 'client' | 'server';
export type ConnectionState = 'idle' | 'connecting' | 'pending' | 'connected' | 'disconnecting' | 'disconnected';

export type ConnectionEvent =
  /** Server: a client asks to connect; call accept() or reject(). `payload` is what the client passed to connect(). */
  | { type: 'connect-request'; payload: Uint8Array }
  | { type: 'connected'; connectionId: number }
  | { type: 'message'; channel: number; data: Uint8Array }
  | { type: 'disconnected'; reason: number; text: string; by: 'local' | 'peer' };

/** Protocol records (pings, pongs) waiting to be sent; older ones are dropped past this. */
const MAX_PENDING_RECORDS = 8;
const DISCONNECT_SPACING = 10;
/**
 * How long a packet with nothing to resend in it may wait for its ack (docs/protocol.md §4): long enough to
 * ride on the state the other side sends 20 times a second, short enough for RTT and congestion figures.
 */
export const LAZY_ACK_DELAY = 100;
/** How late an ack timer may fire and its ack still count as held within the peer's max ack delay, ms. */
const ACK_TIMER_SLACK = 5;

export class Connection {
  readonly options: ResolvedOptions;
  private stateValue: ConnectionState = 'idle';
  private connectionIdValue = 0;
  private now = 0;
  private readonly trace: TraceListener | undefined;
  private readonly events = new Queue<ConnectionEvent>();
  private readonly timers = new TimerTable();
  /** Datagrams ready to go at the next poll: control packets and acks forced out during handle(). */
  private readonly outbox: Uint8Array[] = [];
  private readonly recordsOut: Uint8Array[] = [];

  private readonly senders: SendChannel[];
  private readonly receivers: ReceiveChannel[];
  private readonly assembler: PacketAssembler;
  private readonly received: ReceivedPackets;
  private readonly idHistory: IdHistory;
  private readonly sent = new SentPackets();
  private readonly rtt: RttEstimator;
  private readonly rttWindow: SampleWindow;
  private readonly loss: LossDetection;
  /** Congestion control and pacing of data on unreliable transports (replaced when the path changes). */
  private cc: CongestionController;
  /** Packets a probe timeout may still send past the window and the pace. */
  private probesOwed = 0;
  /** Share of recent packets lost (an average over about the last 16 acknowledged or lost), for redundancy. */
  private recentLoss = 0;
  private readonly pinger: PingTracker;
  private readonly ponger = new PingResponder();
  private readonly idMode: (channel: number) => ChannelIdMode;
  readonly counters: Counters;

  private nextSeq = 0;
  private retransmit: boolean;
  /** What checkIncoming needs, with the record objects it reuses for every packet. */
  private readonly incomingContext: IncomingContext;
  /** What SendChannel.enqueue drops, reused by every send. */
  private readonly droppedScratch: OutgoingMessage[] = [];
  private lastReceivedAt = 0;
  private lastSentAt = 0;
  private readonly clientHandshake: ClientHandshake | undefined;
  private readonly serverHandshake: ServerHandshake | undefined;
  // Teardown
  private disconnectPacket: Uint8Array | undefined;
  private disconnectCopiesLeft = 0;
  private nextDisconnectAt = Infinity;
  private disconnectInfo: { reason: number; text: string } | undefined;
  private token: Uint8Array = new Uint8Array(SESSION_TOKEN_SIZE);

  /** @throws ConfigError for invalid options, or a client with neither `nonce` nor `random`. */
  constructor(
    readonly role: ConnectionRole,
    options: ConnectionOptions = {},
  ) {
    const o = (this.options = resolveOptions(options));
    this.trace = o.trace;
    this.retransmit = o.retransmission;
    this.senders = o.channels.map((c, i) => new SendChannel(i, c, o.fragmentSize, o.wholeLimit));
    this.receivers = o.channels.map((c, i) => makeReceiver({ index: i, config: c, reassemblyTimeout: o.reassemblyTimeout }));
    const order = [...this.senders].sort((a, b) => b.config.priority - a.config.priority || a.index - b.index);
    this.assembler = new PacketAssembler(o.mtu, order);
    this.received = new ReceivedPackets(o.mtu);
    this.idHistory = new IdHistory(o.channels.length);
    this.rtt = new RttEstimator({ initialRtt: o.initialRtt, maxAckDelay: o.maxAckDelay });
    this.rttWindow = new SampleWindow(o.rttWindow);
    this.loss = new LossDetection(this.sent, this.rtt, {
      minRto: o.minRto,
      maxRto: o.maxRto,
      lazyAckDelay: LAZY_ACK_DELAY,
    });
    this.cc = new CongestionController(o.mtu, this.rtt, 0);
    this.pinger = new PingTracker({ interval: o.pingInterval });
    const modes: ChannelIdMode[] = o.channels.map((c) => (carriesIds(c.kind) ? 'id' : 'plain'));
    this.idMode = (ch) => (ch === CONTROL_CHANNEL ? 'plain' : modes[ch]!);
    this.incomingContext = {
      received: this.received,
      idHistory: this.idHistory,
      receivers: this.receivers,
      idMode: this.idMode,
      nextSeq: 0,
      pool: new RecordPool(),
    };
    this.counters = newCounters();
    if (role === 'client') {
      if (o.nonce === undefined) throw new ConfigError('a client connection needs options.random (a RandomSource) or options.nonce');
      this.clientHandshake = new ClientHandshake(o.nonce, o.connectRetryInterval, o.maxAckDelay);
    } else {
      this.serverHandshake = new ServerHandshake();
    }
  }

  /** A client connection; call connect() to start. Needs options.random or options.nonce. */
  static client(options?: ConnectionOptions): Connection {
    return new Connection('client', options);
  }

  /** A server connection, fed the client's first datagram (its CONNECT). */
  static server(options?: ConnectionOptions): Connection {
    return new Connection('server', options);
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  /** Connection id assigned by the server (0 until connected). */
  get connectionId(): number {
    return this.connectionIdValue;
  }

  get channels(): readonly ChannelConfig[] {
    return this.options.channels;
  }

  /** The session token from ACCEPT (both sides, once connected): the client shows it to resume elsewhere. */
  get sessionToken(): Uint8Array {
    return this.token;
  }

  /** Whether lost reliable content is resent (off on transports that are reliable themselves). */
  get retransmission(): boolean {
    return this.retransmit;
  }

  /**
   * The session moved to another transport (or address): everything in flight on the old one may be gone,
   * so every reliable unit of every in-flight packet is queued again (the receiver drops duplicates), the
   * probe backoff resets, and retransmission follows the new transport (`reliable`: no retransmission).
   */
  transportChanged(now: number, reliable: boolean): void {
    this.tick(now);
    this.retransmit = !reliable;
    const inFlight = [...this.sent.values()];
    this.sent.clear();
    this.cc = new CongestionController(this.options.mtu, this.rtt, this.now); // a new path: learn it afresh
    this.probesOwed = 0;
    for (const p of inFlight) for (const u of p.units) this.senders[u.message.channel]!.requeue(u.message, u.unit, p.seq);
    this.loss.onAckProgress();
    this.lastReceivedAt = this.now;
    this.updateTimers();
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  /** Client: start connecting. `payload` (≤ 1024 bytes, e.g. an auth token) reaches the server's host. */
  connect(now: number, payload: Uint8Array = new Uint8Array(0)): void {
    if (!this.clientHandshake) throw new StateError('connect() is for client connections');
    if (this.stateValue !== 'idle') throw new StateError(`connect() in state '${this.stateValue}'`);
    this.tick(now);
    this.clientHandshake.start(now, payload, this.options.timeout);
    this.setState('connecting');
    this.updateTimers();
  }

  /**
   * Server: accept the pending connect request under `connectionId` (u32, chosen by the host). `token`
   * (16 bytes) is the secret the client must show to resume the session on another transport: random bytes
   * from a cryptographic source.
   */
  accept(now: number, connectionId: number, token: Uint8Array): void {
    if (this.stateValue !== 'pending') throw new StateError(`accept() in state '${this.stateValue}'`);
    if (token.length !== SESSION_TOKEN_SIZE) throw new RangeError(`token must be ${SESSION_TOKEN_SIZE} bytes`);
    this.tick(now);
    this.connectionIdValue = connectionId >>> 0;
    this.token = token.slice();
    this.queueControl('accept', this.serverHandshake!.accept(now, this.connectionIdValue, this.token, this.options.maxAckDelay));
    this.lastReceivedAt = now;
    this.lastSentAt = now;
    this.setState('connected');
    this.cc = new CongestionController(this.options.mtu, this.rtt, this.now);
    this.events.push({ type: 'connected', connectionId: this.connectionIdValue });
    this.updateTimers();
  }

  /** Server: refuse the pending connect request; the client gets `reason` and `text`. */
  reject(now: number, reason: number = DisconnectReason.Rejected, text = ''): void {
    if (this.stateValue !== 'pending') throw new StateError(`reject() in state '${this.stateValue}'`);
    this.tick(now);
    this.queueControl('reject', this.serverHandshake!.reject(reason, text));
    this.finish(reason, text, 'local');
    this.updateTimers();
  }

  /**
   * Close: the peer is told (DISCONNECT, sent redundantly) unless we never got connected. Messages queued
   * before are sent once, ahead of the first DISCONNECT (never resent after it).
   */
  disconnect(now: number, reason: number = DisconnectReason.Closed, text = ''): void {
    this.tick(now);
    if (this.stateValue === 'pending') return this.reject(now, reason, text);
    if (this.stateValue !== 'connected') {
      if (this.stateValue !== 'disconnected' && this.stateValue !== 'disconnecting') this.finish(reason, text, 'local');
      this.updateTimers();
      return;
    }
    this.disconnectPacket = encodeControl({ type: 'disconnect', connectionId: this.connectionIdValue, reason, text });
    this.disconnectCopiesLeft = this.options.disconnectCopies;
    this.nextDisconnectAt = now;
    this.disconnectInfo = { reason, text };
    this.setState('disconnecting');
    this.updateTimers();
  }

  // ---- sending ---------------------------------------------------------------------------------

  /**
   * Queues a message on a channel (the bytes are copied). Returns its 16-bit message id, or undefined on
   * an `unreliable` channel. Throws SendError: 'unknown-channel', 'message-too-large', 'backpressure'
   * (reliable channel full: retry after acks), 'closed'. Queued messages go out at the next poll().
   * `now` (optional) is the current time, for the trace; it never moves the clock backwards.
   */
  send(channel: number, data: Uint8Array, now?: number): number | undefined {
    const r = this.enqueue(channel, data, now, true);
    return r === false ? undefined : r;
  }

  /**
   * send() for a hot path: a reliable message the connection cannot hold now (send() would throw
   * 'backpressure') returns false, with no exception built or thrown, and so does an unreliable message dropped
   * because the send buffer is full; true when queued. The other SendErrors ('unknown-channel',
   * 'message-too-large', 'closed': mistakes, or the end) are still thrown.
   */
  trySend(channel: number, data: Uint8Array, now?: number): boolean {
    return this.enqueue(channel, data, now, false) !== false;
  }

  /** send() and trySend(): the message id (undefined: none), or false when full and `throwWhenFull` is off. */
  private enqueue(channel: number, data: Uint8Array, now: number | undefined, throwWhenFull: boolean): number | undefined | false {
    if (now !== undefined) this.tick(now);
    const ch = this.senders[channel];
    if (!ch) throw new SendError('unknown-channel', `no channel ${channel} (this connection has ${this.senders.length})`);
    if (this.stateValue === 'disconnecting' || this.stateValue === 'disconnected') {
      throw new SendError('closed', `connection is ${this.stateValue}`);
    }
    ch.assertFits(data.length); // a mistake, reported as such even when the connection is full too
    let held = 0;
    for (const sc of this.senders) held += sc.heldBytes;
    if (held + data.length > this.options.maxSendBuffer) {
      if (ch.reliable) {
        if (!throwWhenFull) return false;
        throw new SendError(
          'backpressure',
          `the connection holds ${held} bytes to send; ${data.length} more would pass maxSendBuffer (${this.options.maxSendBuffer})`,
        );
      }
      this.counters.sendQueueDrops++;
      this.trace?.({ type: 'message-dropped', t: this.now, channel, reason: 'queue-full' });
      return throwWhenFull ? undefined : false;
    }
    if (!throwWhenFull && ch.reliable && ch.blocked(data.length)) return false;
    const dropped = this.droppedScratch;
    const message = ch.enqueue(data, dropped);
    this.counters.messagesSent++;
    if (dropped.length > 0) {
      for (const d of dropped) {
        this.counters.sendQueueDrops++;
        this.trace?.({ type: 'message-dropped', t: this.now, channel, ...(d.id >= 0 ? { id: wrap(d.id) } : {}), reason: 'queue-full' });
      }
      dropped.length = 0;
    }
    const id = message.id >= 0 && ch.carriesIds ? wrap(message.id) : undefined;
    this.trace?.({ type: 'message-queued', t: this.now, channel, ...(id !== undefined ? { id } : {}), size: data.length });
    // The only timer a send can make due (the rest of the table is untouched by it): out at the next poll.
    if (this.stateValue === 'connected' && !this.sent.full) this.timers.set(Timer.Send, this.now);
    return id;
  }

  // ---- receiving -------------------------------------------------------------------------------

  /**
   * Feeds one received datagram. Never throws for any input: bad packets are counted as malformed and
   * dropped; a failure of our own (a bug, never the peer's bytes) is counted apart as an internal error.
   */
  handle(datagram: Uint8Array, now: number): void {
    this.tick(now);
    this.counters.bytesReceived += datagram.length;
    this.counters.packetsReceived++;
    this.counters.bytesInRate.add(now, datagram.length);
    this.counters.packetsInRate.add(now, 1);
    try {
      const kind = packetKindOf(datagram);
      if (kind === undefined) throw new DecodeError(datagram.length === 0 ? 'empty datagram' : 'unknown packet kind');
      if (kind === PacketKind.Control) this.handleControl(decodeControl(datagram), datagram.length);
      else this.handleData(datagram);
    } catch (e) {
      if (e instanceof DecodeError) this.malformed(datagram.length, e.message);
      else this.internalError(e);
    }
    this.updateTimers();
  }

  /** The next event (delivered message, state change), or undefined. */
  pollEvent(): ConnectionEvent | undefined {
    return this.events.shift();
  }

  private malformed(size: number, error: string): void {
    this.counters.malformedPackets++;
    this.trace?.({ type: 'packet-malformed', t: this.now, size, error });
  }

  private internalError(e: unknown): void {
    this.counters.internalErrors++;
    this.trace?.({ type: 'internal-error', t: this.now, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }

  private handleControl(p: ControlPacket, size: number): void {
    this.trace?.({ type: 'control-received', t: this.now, packet: p.type, size });
    switch (p.type) {
      case 'connect':
        if (!this.serverHandshake) throw new DecodeError('CONNECT sent to a client');
        return this.onConnect(p, size, this.serverHandshake);
      case 'accept':
        return this.onAccept(p);
      case 'reject':
        if (this.stateValue !== 'connecting' || !this.clientHandshake!.ours(p.nonce)) return;
        return this.finish(p.reason, p.text, 'peer');
      case 'disconnect':
        if (p.connectionId !== this.connectionIdValue) return;
        if (this.stateValue === 'connected' || this.stateValue === 'disconnecting') this.finish(p.reason, p.text, 'peer');
        return;
      case 'resume':
      case 'resumed':
        return; // the endpoint's business (endpoint.ts), never a connection's
    }
  }

  private onConnect(p: Extract<ControlPacket, { type: 'connect' }>, size: number, hs: ServerHandshake): void {
    if (this.stateValue === 'idle') {
      hs.onConnect(p, size, this.now);
      this.lastReceivedAt = this.now;
      this.setState('pending');
      if (p.version !== PROTOCOL_VERSION) {
        return this.reject(this.now, DisconnectReason.VersionMismatch, `server speaks protocol ${PROTOCOL_VERSION}, client ${p.version}`);
      }
      const mismatch = compareLayouts(this.options.channels.map(channelSpec), p.channels);
      if (mismatch) return this.reject(this.now, DisconnectReason.ChannelMismatch, mismatch);
      this.rtt.maxAckDelay = p.maxAckDelay; // our probe timeout waits as long as the client may hold its acks
      this.events.push({ type: 'connect-request', payload: p.payload });
      return;
    }
    if (p.nonce !== hs.peerNonce) return;
    hs.onConnect(p, size, this.now);
    // We refused this client and our REJECT was lost: say it again (one reply per request, never larger).
    if (this.stateValue === 'disconnected') {
      const again = hs.repeatRefusal();
      if (again) this.queueControl('reject', again);
      return;
    }
    this.lastReceivedAt = this.now;
    // Our ACCEPT was lost: answer this CONNECT again (one reply per request, never larger).
    if (this.stateValue === 'connected') {
      this.queueControl('accept', hs.accept(this.now, this.connectionIdValue, this.token, this.options.maxAckDelay));
    }
  }

  private onAccept(p: Extract<ControlPacket, { type: 'accept' }>): void {
    const hs = this.clientHandshake;
    if (this.stateValue !== 'connecting' || !hs?.ours(p.nonce)) return;
    this.lastReceivedAt = this.now;
    this.connectionIdValue = p.connectionId;
    this.token = p.token;
    this.rtt.maxAckDelay = p.maxAckDelay; // our probe timeout waits as long as the server may hold its acks
    const sample = hs.sample(p, this.now);
    if (sample) {
      this.rtt.addSample(sample.rtt, 0);
      this.rttWindow.add(sample.rtt);
      this.pinger.addSample(sample);
    }
    hs.stop();
    this.lastSentAt = this.now;
    this.setState('connected');
    this.cc = new CongestionController(this.options.mtu, this.rtt, this.now);
    this.events.push({ type: 'connected', connectionId: p.connectionId });
  }

  private handleData(datagram: Uint8Array): void {
    if (this.stateValue !== 'connected') return; // early (before ACCEPT) or late: ignored
    // Pass 1: every record must be acceptable before anything changes.
    const ctx = this.incomingContext;
    ctx.nextSeq = this.nextSeq;
    const incoming = checkIncoming(datagram, ctx);
    if (incoming.verdict !== 'new') {
      if (incoming.verdict === 'duplicate') this.counters.duplicatePackets++;
      else this.counters.stalePackets++;
      this.trace?.({
        type: incoming.verdict === 'duplicate' ? 'packet-duplicate' : 'packet-stale',
        t: this.now,
        seq: incoming.header.sequence,
      });
      return;
    }
    // Pass 2: apply.
    const { n, header, records, controls, ackN } = incoming;
    this.lastReceivedAt = this.now;
    // A burst between two polls must not slide the ack window past packets not yet acknowledged.
    if (this.received.mustAckBefore(n)) this.sendPacket(this.outbox, 'none');
    const urgency = this.ackUrgency(records);
    this.received.record(n, urgency, this.now, urgency === 'eager' ? this.options.maxAckDelay : LAZY_ACK_DELAY, datagram.length);
    if (this.trace) {
      this.trace({ type: 'packet-received', t: this.now, seq: header.sequence, size: datagram.length, records: records.map(traceRecord) });
    }
    if (header.ack) this.onAck(header.ack, ackN);
    for (const c of controls) this.onControlRecord(c);
    for (const rec of records) if (rec.channel !== CONTROL_CHANNEL) this.receivers[rec.channel]!.accept(rec, this.now, this.sink);
    this.idHistory.record(n, (ch) => this.receivers[ch]!.highest);
  }

  private onControlRecord(c: ControlRecord): void {
    if (c.type === 'ping') this.queueRecord(encodePong(this.ponger.onPing(c.ping, this.now)));
    else this.pinger.onPong(c.pong, this.now);
  }

  /** Queues a protocol record (ping, pong); a peer pinging faster than we can answer only replaces old pongs. */
  private queueRecord(r: Uint8Array): void {
    if (this.recordsOut.length >= MAX_PENDING_RECORDS) this.recordsOut.shift();
    this.recordsOut.push(r);
  }

  private onAck(ack: AckInfo, largest: number): void {
    const now = this.now;
    let progress = false;
    const largestPacket = largest >= this.sent.largestAcked ? this.sent.get(largest) : undefined;
    const delay = ack.delay ?? 0;
    // An ack held so long its delay saturated says nothing exact about the round trip.
    if (largestPacket && delay < ACK_DELAY_MAX_MS) {
      const sample = now - largestPacket.sentAt;
      const path = Math.max(0, sample - delay); // the path, without the peer holding its ack
      // The ack of a packet with nothing to resend may be held past the peer's max ack delay (lazily), which the
      // estimator would clamp it to (RFC 9002 §5.3): its round trip would read long, so it is left out. An ack of
      // reliable content always counts, late timer or not (clamped as RFC 9002 says).
      if (largestPacket.units.length > 0 || delay <= this.rtt.maxAckDelay + ACK_TIMER_SLACK) this.rtt.addSample(sample, delay);
      this.rttWindow.add(Math.max(path, Math.min(sample, this.rtt.min)));
      this.cc.onRttSample(path, now);
    }
    for (let i = -1; i < 32; i++) {
      if (i >= 0 && !((ack.bits >>> i) & 1)) continue;
      const p = this.sent.take(largest - 1 - i);
      if (!p) {
        // Declared lost earlier, yet it arrived: the loss was spurious; its content needs no more resends.
        const late = this.loss.onLateAck(largest - 1 - i);
        if (late) {
          this.counters.spuriousLosses++;
          for (const u of late.units) this.senders[u.message.channel]!.onUnitAcked(u.message, u.unit);
        }
        continue;
      }
      progress = true;
      this.counters.packetsAcked++;
      this.cc.onAcked(p, now);
      this.observeLoss(false);
      this.trace?.({ type: 'packet-acked', t: now, seq: wrap(p.seq), rtt: now - p.sentAt });
      for (const u of p.units) this.senders[u.message.channel]!.onUnitAcked(u.message, u.unit);
    }
    if (largest > this.sent.largestAcked) this.sent.largestAcked = largest;
    if (progress) this.loss.onAckProgress();
    if (this.retransmit) this.loss.detect(now, this.onLost);
  }

  private readonly onLost = (p: SentPacket, reason: 'packet-threshold' | 'time-threshold' | 'probe-timeout'): void => {
    this.counters.packetsLost++;
    this.cc.onLost(p, this.now);
    this.observeLoss(true);
    this.trace?.({ type: 'packet-lost', t: this.now, seq: wrap(p.seq), reason });
    for (const u of p.units) this.senders[u.message.channel]!.requeue(u.message, u.unit, p.seq);
  };

  /**
   * How soon a packet wants its ack: eagerly when it carries reliable records we would make the peer resend
   * by acknowledging late; lazily (riding on the next packet we send anyway) when it carries only unreliable
   * records or protocol records, or on a reliable transport, where nothing is ever resent.
   */
  private ackUrgency(records: readonly MessageRecord[]): AckUrgency {
    if (records.length === 0) return 'none';
    if (!this.retransmit) return 'lazy';
    for (const r of records) if (r.channel !== CONTROL_CHANNEL && this.senders[r.channel]!.reliable) return 'eager';
    return 'lazy';
  }

  /**
   * Redundancy follows the loss: each channel that has it copies each small message as many times as it takes
   * for all copies to be lost with a chance under 1/1000 at the loss seen lately (none on a clean link), at
   * most its option's `copies`.
   */
  private observeLoss(lost: boolean): void {
    this.recentLoss += ((lost ? 1 : 0) - this.recentLoss) / 16;
    const p = this.recentLoss;
    const needed = p < 0.001 ? 0 : p >= 0.5 ? Infinity : Math.max(0, Math.ceil(Math.log(0.001) / Math.log(p) - 1e-9) - 1);
    for (const ch of this.senders) if (ch.config.redundancy.copies > 0) ch.copyLimit = Math.min(ch.config.redundancy.copies, needed);
  }

  /** A probe: the packet's reliable units not yet acknowledged go out again; the packet stays in flight. */
  private probe(p: SentPacket): void {
    this.trace?.({ type: 'packet-probed', t: this.now, seq: wrap(p.seq) });
    for (const u of p.units) this.senders[u.message.channel]!.reprobe(u.message, u.unit);
  }

  private readonly sink: ReceiveSink = {
    deliver: (channel, id, data) => {
      this.counters.messagesDelivered++;
      this.trace?.({ type: 'message-delivered', t: this.now, channel, ...(id !== undefined ? { id } : {}), size: data.length });
      this.events.push({ type: 'message', channel, data });
    },
    buffered: (channel, id, waitingFor) => {
      this.trace?.({ type: 'message-buffered', t: this.now, channel, id, waitingFor });
    },
    duplicate: (channel, id) => {
      this.counters.duplicateMessages++;
      this.trace?.({ type: 'message-duplicate', t: this.now, channel, id });
    },
    dropped: (channel, id, reason) => {
      this.counters.messagesDropped++;
      this.trace?.({ type: 'message-dropped', t: this.now, channel, ...(id !== undefined ? { id } : {}), reason });
    },
  };

  // ---- output and timers -----------------------------------------------------------------------

  /** Datagrams to send now (each valid until the next poll). Runs exactly the timers that are due. */
  poll(now: number): Uint8Array[] {
    this.tick(now);
    const out: Uint8Array[] = [];
    const due = this.timers.expired(this.now);
    if (due !== 0) this.runTimers(due);
    for (const c of this.outbox) out.push(c);
    this.outbox.length = 0;
    if (this.stateValue === 'connected') this.flush(out);
    if (this.stateValue === 'disconnecting' && isDue(due, Timer.Disconnect)) {
      // A graceful close: what was queued before disconnect() goes out ahead of the first DISCONNECT.
      if (this.disconnectCopiesLeft === this.options.disconnectCopies) this.flush(out);
      this.sendDisconnectCopy(out);
    }
    for (const d of out) {
      this.counters.packetsSent++;
      this.counters.bytesSent += d.length;
      this.counters.bytesOutRate.add(this.now, d.length);
      this.counters.packetsOutRate.add(this.now, 1);
    }
    this.updateTimers();
    return out;
  }

  /** Absolute time (ms) by which poll() must be called again: the timer table's minimum (Infinity: none armed). */
  nextTimeout(): number {
    const t = this.timers.next();
    return t === Infinity ? Infinity : Math.max(this.now, t);
  }

  /** The timers in `due` (a mask from the table), in the table's order. Sending itself happens in flush(). */
  private runTimers(due: number): void {
    const now = this.now;
    if (this.stateValue === 'connecting') {
      if (isDue(due, Timer.ConnectDeadline)) return this.finish(DisconnectReason.ConnectTimeout, 'no answer from the server', 'local');
      if (isDue(due, Timer.Connect)) this.queueControl('connect', this.clientHandshake!.nextAttempt(now, this.options.channels));
      return;
    }
    if (isDue(due, Timer.Idle)) return this.finish(DisconnectReason.Timeout, `nothing received for ${this.options.timeout} ms`, 'local');
    if (this.stateValue !== 'connected') return;
    if (isDue(due, Timer.Loss)) {
      if (this.loss.lossTimerArmed) this.loss.detect(now, this.onLost);
      else {
        for (const p of this.loss.onProbeTimeout(this.onLost)) this.probe(p);
        this.probesOwed = PROBE_PACKETS;
      }
    }
    if (isDue(due, Timer.Reassembly)) for (const rc of this.receivers) rc.expire(now, this.sink);
    if (isDue(due, Timer.Ping)) {
      const ping = this.pinger.poll(now);
      if (ping) this.queueRecord(encodePing(ping));
    }
  }

  /**
   * Sets every timer from the state: the one place that decides which timers are armed, called at the end
   * of every entry point that changes state (send() only ever arms Timer.Send, and does so itself).
   */
  private updateTimers(): void {
    const t = this.timers;
    t.clearAll();
    const state = this.stateValue;
    if (this.outbox.length > 0) t.set(Timer.Send, this.now);
    if (state === 'connecting') {
      t.set(Timer.Connect, this.clientHandshake!.nextAttemptAt);
      t.set(Timer.ConnectDeadline, this.clientHandshake!.deadline);
    } else if (state === 'pending') {
      t.set(Timer.Idle, this.lastReceivedAt + this.options.timeout);
    } else if (state === 'disconnecting') {
      t.set(Timer.Disconnect, this.nextDisconnectAt);
    } else if (state === 'connected') {
      t.set(Timer.Idle, this.lastReceivedAt + this.options.timeout);
      t.set(Timer.Ack, this.received.ackDue);
      if (this.retransmit) t.set(Timer.Loss, this.loss.nextTimeout());
      t.set(Timer.Ping, this.pinger.nextPingTime());
      t.set(Timer.Keepalive, this.lastSentAt + this.options.keepaliveInterval);
      let reassembly = Infinity;
      for (const rc of this.receivers) reassembly = Math.min(reassembly, rc.nextExpiry());
      t.set(Timer.Reassembly, reassembly);
      const allow = this.allowance();
      if (this.hasWork(allow)) t.set(Timer.Send, this.now);
      else if (!this.sent.full && this.hasWork('all') && !this.cc.pacer.allows(this.now))
        t.set(Timer.Send, this.cc.pacer.nextSendTime(this.now));
    }
  }

  private sendDisconnectCopy(out: Uint8Array[]): void {
    out.push(this.disconnectPacket!);
    this.traceControl('disconnect', this.disconnectPacket!.length);
    if (--this.disconnectCopiesLeft > 0) this.nextDisconnectAt = this.now + DISCONNECT_SPACING;
    else this.finish(this.disconnectInfo!.reason, this.disconnectInfo!.text, 'local');
  }

  /**
   * What data may go out now. Past the in-flight cap nothing ack-eliciting (protocol records included), only
   * acks. On an unreliable transport, reliable data waits for the window and the pace; unreliable data and
   * protocol records stay latency-first: they ignore the window, and wait for the pace only once the path's
   * bandwidth has been measured (before that, the startup pace is a guess). A probe may send anything.
   */
  private allowance(): DataAllowance {
    if (this.sent.full) return 'none';
    if (!this.retransmit || this.probesOwed > 0) return 'all';
    const paced = this.cc.pacer.allows(this.now);
    if (!paced && this.cc.bandwidthKnown) return 'none';
    return paced && this.cc.canSend(this.options.mtu) ? 'all' : 'unreliable';
  }

  /** Whether anything is queued that `allow` lets out. */
  private hasWork(allow: DataAllowance): boolean {
    if (allow === 'none') return false;
    if (this.recordsOut.length > 0) return true;
    for (const c of this.senders) if (c.hasWork && (allow === 'all' || !c.reliable)) return true;
    return false;
  }

  /** Sends everything that is due and allowed: records, messages, owed acks, a keepalive. */
  private flush(out: Uint8Array[]): void {
    const keepalive = this.now - this.lastSentAt >= this.options.keepaliveInterval;
    for (let guard = 0; guard < 1_000_000; guard++) {
      const allow = this.allowance();
      const work = this.hasWork(allow);
      const ackOwed = this.received.ackDue <= this.now;
      if (!work && !ackOwed && !(keepalive && guard === 0)) break;
      const records = this.sendPacket(out, allow);
      if (records === 0 && !work) break;
    }
    if (this.retransmit && !this.hasWork('all')) this.cc.onAppLimited();
  }

  /** Builds and queues one data packet (with acks when we have received anything); returns its record count. */
  private sendPacket(out: Uint8Array[], allow: DataAllowance): number {
    const now = this.now;
    const ack = this.received.ackInfo(now);
    const seq = this.nextSeq++;
    const p = this.assembler.assemble(seq, ack, allow === 'none' ? [] : this.recordsOut, allow, this.trace !== undefined);
    const newlyAcked = ack ? this.received.onAckSent(this.trace !== undefined) : [];
    if (p.records > 0) {
      const packet: SentPacket = {
        seq,
        sentAt: now,
        size: p.bytes.length,
        units: p.units,
        delivered: 0,
        deliveredAt: 0,
        firstSentAt: 0,
        appLimited: false,
      };
      if (this.retransmit) {
        const probe = this.probesOwed > 0;
        if (probe) this.probesOwed--;
        this.cc.onSent(packet, now, !probe);
      }
      this.sent.add(packet);
    }
    this.counters.redundantCopies += p.redundant;
    for (const r of p.resent) {
      this.counters.retransmissions++;
      const m = r.unit.message;
      this.trace?.({
        type: 'message-retransmitted',
        t: now,
        channel: m.channel,
        id: wrap(m.id),
        ...(m.fragmented ? { fragment: [r.unit.unit, m.units] as [number, number] } : {}),
        seq: wrap(seq),
        previousSeq: wrap(r.previous),
      });
    }
    if (this.trace) {
      this.trace({
        type: 'packet-sent',
        t: now,
        seq: wrap(seq),
        size: p.bytes.length,
        ...(ack ? { ack: ack.ack } : {}),
        acked: newlyAcked.map(wrap),
        records: p.trace!,
      });
    }
    this.lastSentAt = now;
    out.push(p.bytes);
    return p.records;
  }

  // ---- stats and helpers ----------------------------------------------------------------------

  /** A snapshot of everything measured so far. Cheap enough to read every frame. */
  stats(now: number = this.now): ConnectionStats {
    this.tick(now);
    return buildStats({
      now: this.now,
      state: this.stateValue,
      rtt: this.rtt,
      rttWindow: this.rttWindow,
      ping: this.pinger.stats(this.now),
      counters: this.counters,
      senders: this.senders,
      receivers: this.receivers,
      inFlight: this.sent.size,
      congestion: this.cc.stats(),
    });
  }

  /**
   * The peer's clock at local time `now`, from the clock offset (the handshake's sample, then pings); `now`
   * itself only if no sample exists (a connection that never connected).
   */
  peerTime(now: number = this.now): number {
    return this.pinger.peerTime(now);
  }

  private tick(now: number): void {
    if (now > this.now) this.now = now;
  }

  private setState(s: ConnectionState): void {
    this.stateValue = s;
    this.trace?.({ type: 'state', t: this.now, state: s });
  }

  private queueControl(name: ControlName, bytes: Uint8Array): void {
    this.outbox.push(bytes);
    this.traceControl(name, bytes.length);
  }

  private traceControl(name: ControlName, size: number): void {
    this.trace?.({ type: 'control-sent', t: this.now, packet: name, size });
  }

  private finish(reason: number, text: string, by: 'local' | 'peer'): void {
    if (this.stateValue === 'disconnected') return;
    this.setState('disconnected');
    this.clientHandshake?.stop();
    this.nextDisconnectAt = Infinity;
    this.sent.clear();
    this.recordsOut.length = 0;
    this.events.push({ type: 'disconnected', reason, text, by });
  }
}

function makeReceiver(ctx: ReceiveChannelContext): ReceiveChannel {
  switch (ctx.config.kind) {
    case 'reliable-ordered':
      return new OrderedReceiver(ctx);
    case 'reliable-unordered':
      return new UnorderedReceiver(ctx);
    case 'unreliable-sequenced':
      return new SequencedReceiver(ctx);
    case 'unreliable':
      return new UnreliableReceiver(ctx);
  }
}

function traceRecord(r: MessageRecord) {
  return {
    channel: r.channel,
    ...(r.id !== undefined ? { id: r.id } : {}),
    ...(r.fragment ? { fragment: [r.fragment.index, r.fragment.count] as [number, number] } : {}),
    size: r.data.length,
    retransmit: false,
  };
}
