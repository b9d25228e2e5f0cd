/** The stats snapshot a host can read at any time (connection.stats(now)), and the counters behind it. */

import type { CongestionStats } from './congestion-controller.js';
import type { ChannelKind } from './channel-config.js';
import type { PingStats } from './ping.js';
import { RateMeter } from './rate-meter.js';
import type { ReceiveChannel } from './receive-channel.js';
import type { RttEstimator } from './rtt-estimator.js';
import type { SampleSummary, SampleWindow } from './sample-window.js';
import type { SendChannel } from './send-channel.js';

export interface Counters {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  packetsLost: number;
  /** Packets declared lost that were acknowledged after all (reordering); the loss thresholds widen. */
  spuriousLosses: number;
  packetsAcked: number;
  /** Reliable messages (or fragments) sent again after a loss. */
  retransmissions: number;
  /** Redundant copies of small reliable messages sent (channel option `redundancy`). */
  redundantCopies: number;
  duplicatePackets: number;
  stalePackets: number;
  malformedPackets: number;
  /** Failures of our own while handling a datagram (bugs, never the peer's input); always 0 in a healthy run. */
  internalErrors: number;
  duplicateMessages: number;
  messagesSent: number;
  messagesDelivered: number;
  /** Received messages dropped: stale (sequenced), incomplete (reassembly timeout or cap). */
  messagesDropped: number;
  /** Unreliable messages dropped from our send queue because it was over its cap. */
  sendQueueDrops: number;
  bytesInRate: RateMeter;
  bytesOutRate: RateMeter;
  packetsInRate: RateMeter;
  packetsOutRate: RateMeter;
}

export function newCounters(): Counters {
  return {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    packetsLost: 0,
    spuriousLosses: 0,
    packetsAcked: 0,
    retransmissions: 0,
    redundantCopies: 0,
    duplicatePackets: 0,
    stalePackets: 0,
    malformedPackets: 0,
    internalErrors: 0,
    duplicateMessages: 0,
    messagesSent: 0,
    messagesDelivered: 0,
    messagesDropped: 0,
    sendQueueDrops: 0,
    bytesInRate: new RateMeter(),
    bytesOutRate: new RateMeter(),
    packetsInRate: new RateMeter(),
    packetsOutRate: new RateMeter(),
  };
}

export interface ChannelStats {
  channel: number;
  kind: ChannelKind;
  /** Sending side: messages held (reliable: not yet acknowledged; unreliable: not yet sent). */
  queuedMessages: number;
  queuedBytes: number;
  /** Units waiting to be resent. */
  resendQueue: number;
  /** Receiving side: messages held (waiting for an earlier one, or partially reassembled). */
  bufferedMessages: number;
  bufferedBytes: number;
}

export interface ConnectionStats {
  state: string;
  /**
   * Round-trip time (ms) from the handshake and acknowledgements: `smoothed` (RFC 6298/9002, what the
   * timers use and what `client.rtt` reports), `variance`, `min`, `latest`, and a window for display.
   */
  rtt: { smoothed: number; variance: number; min: number; latest: number; window: SampleSummary | undefined };
  /** Ping figures: round trips measured by ping, jitter, loss each way, the clock offset and how many samples it rests on. */
  ping: PingStats;
  /** Shorthands from ping: jitter (ms), loss up/down (0..1). */
  jitter: number;
  lossUp: number;
  lossDown: number;
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  packetsSentPerSecond: number;
  packetsReceivedPerSecond: number;
  bytesSentPerSecond: number;
  bytesReceivedPerSecond: number;
  packetsLost: number;
  spuriousLosses: number;
  packetsAcked: number;
  packetsInFlight: number;
  retransmissions: number;
  /** Redundant copies of small reliable messages sent (channel option `redundancy`). */
  redundantCopies: number;
  duplicatePackets: number;
  stalePackets: number;
  /** Datagrams that broke the protocol (counted and dropped; nothing in them took effect). */
  malformedPackets: number;
  /** Failures of our own while handling a datagram, counted apart from malformed input: 0 unless there is a bug. */
  internalErrors: number;
  duplicateMessages: number;
  messagesSent: number;
  messagesDelivered: number;
  /** Received messages dropped (stale on a sequenced channel, incomplete fragmented ones). */
  messagesDropped: number;
  /** Unreliable messages dropped from the send queue over its cap. */
  sendQueueDrops: number;
  /** Bytes of reliable messages not yet acknowledged, all channels. */
  pendingReliableBytes: number;
  /**
   * The congestion controller's model of the path: estimated bandwidth, window, pace and queue delay
   * (congestion-controller.ts; idle on a reliable transport, which has its own).
   */
  congestion: CongestionStats;
  channels: ChannelStats[];
}

export interface StatsSources {
  now: number;
  state: string;
  rtt: RttEstimator;
  rttWindow: SampleWindow;
  ping: PingStats;
  counters: Counters;
  senders: SendChannel[];
  receivers: ReceiveChannel[];
  inFlight: number;
  congestion: CongestionStats;
}

export function buildStats(s: StatsSources): ConnectionStats {
  const c = s.counters;
  return {
    state: s.state,
    rtt: { smoothed: s.rtt.smoothed, variance: s.rtt.variance, min: s.rtt.min, latest: s.rtt.latest, window: s.rttWindow.summary() },
    ping: s.ping,
    jitter: s.ping.jitter,
    lossUp: s.ping.lossUp,
    lossDown: s.ping.lossDown,
    packetsSent: c.packetsSent,
    packetsReceived: c.packetsReceived,
    bytesSent: c.bytesSent,
    bytesReceived: c.bytesReceived,
    packetsSentPerSecond: c.packetsOutRate.perSecond(s.now),
    packetsReceivedPerSecond: c.packetsInRate.perSecond(s.now),
    bytesSentPerSecond: c.bytesOutRate.perSecond(s.now),
    bytesReceivedPerSecond: c.bytesInRate.perSecond(s.now),
    packetsLost: c.packetsLost,
    spuriousLosses: c.spuriousLosses,
    packetsAcked: c.packetsAcked,
    packetsInFlight: s.inFlight,
    retransmissions: c.retransmissions,
    redundantCopies: c.redundantCopies,
    duplicatePackets: c.duplicatePackets,
    stalePackets: c.stalePackets,
    malformedPackets: c.malformedPackets,
    internalErrors: c.internalErrors,
    duplicateMessages: c.duplicateMessages,
    messagesSent: c.messagesSent,
    messagesDelivered: c.messagesDelivered,
    messagesDropped: c.messagesDropped,
    sendQueueDrops: c.sendQueueDrops,
    pendingReliableBytes: s.senders.reduce((n, ch) => n + (ch.reliable ? ch.heldBytes : 0), 0),
    congestion: s.congestion,
    channels: s.senders.map((ch, i) => ({
      channel: i,
      kind: ch.config.kind,
      queuedMessages: ch.heldMessages,
      queuedBytes: ch.heldBytes,
      resendQueue: ch.resend.length,
      bufferedMessages: s.receivers[i]!.bufferedMessages,
      bufferedBytes: s.receivers[i]!.bufferedBytes,
    })),
  };
}
