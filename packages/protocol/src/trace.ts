/**
 * The event trace: an optional callback that sees every packet and message event of a connection.
 * Off by default; when no callback is set the connection builds no event objects at all.
 * The CLI's walkthrough, the devtools timeline and the tests read these.
 */

/** A record as it went out in a packet. */
export interface TraceRecord {
  channel: number;
  /** Message id (16-bit) where the record carries one. */
  id?: number;
  /** [index, count] for a fragment. */
  fragment?: [number, number];
  size: number;
  /** True when this record resends content first carried by an earlier packet. */
  retransmit: boolean;
  /** A redundant copy (channel option `redundancy`), not a resend after a loss. */
  redundant?: true;
}

export type LossReason = 'packet-threshold' | 'time-threshold' | 'probe-timeout';
export type DropReason = 'queue-full' | 'stale' | 'reassembly-timeout' | 'reassembly-cap';
export type ControlName = 'connect' | 'accept' | 'reject' | 'disconnect' | 'resume' | 'resumed';

export type TraceEvent =
  | { type: 'state'; t: number; state: string }
  | { type: 'control-sent'; t: number; packet: ControlName; size: number }
  | { type: 'control-received'; t: number; packet: ControlName; size: number }
  | {
      type: 'packet-sent';
      t: number;
      seq: number;
      size: number;
      /** Newest peer packet acknowledged by this packet's header (absent on a packet without acks). */
      ack?: number;
      /** Peer packets acknowledged by this packet for the first time, oldest first. */
      acked: number[];
      records: TraceRecord[];
    }
  | { type: 'packet-received'; t: number; seq: number; size: number; records: TraceRecord[] }
  | { type: 'packet-duplicate'; t: number; seq: number }
  | { type: 'packet-stale'; t: number; seq: number }
  | { type: 'packet-malformed'; t: number; size: number; error: string }
  /** A failure of our own while handling a datagram (a bug, not the peer's bytes): counted in stats.internalErrors. */
  | { type: 'internal-error'; t: number; error: string }
  | { type: 'packet-acked'; t: number; seq: number; rtt: number }
  | { type: 'packet-lost'; t: number; seq: number; reason: LossReason }
  /** The probe timeout fired: this in-flight packet's unacknowledged reliable content goes out again (it stays in flight). */
  | { type: 'packet-probed'; t: number; seq: number }
  | { type: 'message-queued'; t: number; channel: number; id?: number; size: number }
  | { type: 'message-retransmitted'; t: number; channel: number; id: number; fragment?: [number, number]; seq: number; previousSeq: number }
  | { type: 'message-buffered'; t: number; channel: number; id: number; waitingFor: number }
  | { type: 'message-delivered'; t: number; channel: number; id?: number; size: number }
  | { type: 'message-duplicate'; t: number; channel: number; id: number }
  | { type: 'message-dropped'; t: number; channel: number; id?: number; reason: DropReason };

export type TraceListener = (event: TraceEvent) => void;
