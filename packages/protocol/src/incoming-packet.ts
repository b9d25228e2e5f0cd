/**
 * The first pass over a received data packet: decode the header and every record and check each record
 * against its channel's receiver, changing nothing. Only a packet that passes whole is applied (second pass,
 * in the connection): acknowledgements are per packet, so a half-applied packet would be acknowledged while
 * some of its content was refused, and that content would never be resent (docs/architecture.md).
 */

import { ByteReader, DecodeError } from './bytes.js';
import { decodeControlRecord, type ControlRecord } from './control-record.js';
import { readHeader, type PacketHeader } from './header.js';
import type { IdHistory } from './id-history.js';
import type { ReceiveChannel } from './receive-channel.js';
import type { ReceivedPackets } from './received-packets.js';
import { CONTROL_CHANNEL, readRecords, type ChannelIdMode, type MessageRecord, type RecordPool } from './record.js';
import { unwrap } from './sequence.js';

export type IncomingPacket =
  | {
      verdict: 'new';
      /** Unwrapped packet number. */
      n: number;
      header: PacketHeader;
      records: MessageRecord[];
      /** The protocol's own records (pings, pongs). */
      controls: ControlRecord[];
      /** Unwrapped number of the newest packet of ours it acknowledges (-1: no ack). */
      ackN: number;
    }
  | { verdict: 'duplicate' | 'stale'; header: PacketHeader };

export interface IncomingContext {
  received: ReceivedPackets;
  idHistory: IdHistory;
  receivers: readonly ReceiveChannel[];
  idMode: (channel: number) => ChannelIdMode;
  /** Our next packet number (an ack for it or later names a packet never sent). */
  nextSeq: number;
  /** Record objects to reuse: the packet's records are valid until the next call. */
  pool?: RecordPool;
}

/** Decodes and checks a data packet. Throws DecodeError if anything in it breaks the protocol. */
export function checkIncoming(datagram: Uint8Array, ctx: IncomingContext): IncomingPacket {
  const r = new ByteReader(datagram);
  const header = readHeader(r);
  const records = readRecords(r, ctx.idMode, ctx.pool);
  const n = ctx.received.unwrap(header.sequence);
  const verdict = ctx.received.check(n);
  if (verdict === 'duplicate' || verdict === 'stale') return { verdict, header };
  if (verdict === 'out-of-window') throw new DecodeError(`packet ${header.sequence} is far outside the receive window`);
  let ackN = -1;
  if (header.ack) {
    ackN = unwrap(header.ack.ack, ctx.nextSeq - 1);
    if (ackN >= ctx.nextSeq || ackN < 0) throw new DecodeError(`acknowledges packet ${header.ack.ack}, which was never sent`);
  }
  const controls: ControlRecord[] = [];
  const extra: number[] = [];
  const refs = ctx.idHistory.references(n, ctx.received.largest - n);
  ctx.receivers.forEach((rc, ch) => rc.beginPacket(refs?.(ch)));
  for (const rec of records) {
    if (rec.channel === CONTROL_CHANNEL) {
      controls.push(decodeControlRecord(rec.data));
      continue;
    }
    const rc = ctx.receivers[rec.channel]!;
    extra[rec.channel] = (extra[rec.channel] ?? 0) + rc.cost(rec);
    const why = rc.check(rec, extra[rec.channel]!);
    if (why) throw new DecodeError(`channel ${rec.channel}: ${why}`);
  }
  return { verdict: 'new', n, header, records, controls, ackN };
}
