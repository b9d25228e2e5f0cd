/**
 * Fills packets: header first, then the protocol's control records, then each channel's resends and
 * new messages in priority order, as many as fit in the MTU. Many small messages coalesce into one
 * packet; a message that does not fit whole in an empty packet was fragmented when queued.
 */

import { ByteWriter } from './bytes.js';
import { headerSize, writeHeader, type AckInfo } from './header.js';
import { CONTROL_CHANNEL, recordSize, writeRecord, type MessageRecord } from './record.js';
import type { SendChannel } from './send-channel.js';
import type { SentUnit } from './sent-packets.js';
import { seqAdd, wrap } from './sequence.js';
import type { TraceRecord } from './trace.js';

/** Which channels may put data in a packet. */
export type DataAllowance = 'none' | 'unreliable' | 'all';

export interface AssembledPacket {
  bytes: Uint8Array;
  /** Reliable units this packet carries. */
  units: SentUnit[];
  /** Number of records (0: an ack-only packet, which asks for no ack). */
  records: number;
  /** Units resent in this packet, with the packet that carried each before. */
  resent: { unit: SentUnit; previous: number }[];
  /** Redundant copies carried (channel option `redundancy`). */
  redundant: number;
  /** Filled only when tracing. */
  trace: TraceRecord[] | undefined;
}

const NO_CHANNELS: readonly SendChannel[] = [];
const EMPTY = new Uint8Array(0);

export class PacketAssembler {
  /** Every packet is written here, then copied out at its own size: no MTU-sized buffer per packet. */
  private readonly writer: ByteWriter;
  /** The record being written, reused (its fields are all set before each use). */
  private readonly rec: MessageRecord = { channel: 0, data: EMPTY, id: undefined, fragment: undefined };

  constructor(
    private readonly mtu: number,
    /** Channels in the order to serve them (priority, then index). */
    private readonly order: SendChannel[],
  ) {
    this.writer = ByteWriter.ofSize(mtu);
  }

  /**
   * Builds one packet numbered `seq` (unwrapped). `controls` are consumed from the front. `allow` says which
   * channels may put data in: all, only the unreliable ones (the congestion window is full), or none.
   */
  assemble(seq: number, ack: AckInfo | undefined, controls: Uint8Array[], allow: DataAllowance, tracing: boolean): AssembledPacket {
    const header = ack ? { sequence: wrap(seq), ack } : { sequence: wrap(seq) };
    const w = this.writer;
    w.offset = 0;
    writeHeader(w, header);
    let budget = this.mtu - headerSize(header);
    const units: SentUnit[] = [];
    const resent: { unit: SentUnit; previous: number }[] = [];
    const trace: TraceRecord[] | undefined = tracing ? [] : undefined;
    let records = 0;
    let redundant = 0;

    const rec = this.rec;
    while (controls.length > 0) {
      rec.channel = CONTROL_CHANNEL;
      rec.data = controls[0]!;
      rec.id = undefined;
      rec.fragment = undefined;
      const size = recordSize(rec, false);
      if (size > budget) break;
      writeRecord(w, rec, false);
      budget -= size;
      records++;
      controls.shift();
      trace?.push({ channel: CONTROL_CHANNEL, size: rec.data.length, retransmit: false });
    }

    for (const ch of allow === 'none' ? NO_CHANNELS : this.order) {
      if (ch.reliable && allow !== 'all') continue;
      let lastId: number | undefined;
      for (;;) {
        let resend = true;
        let entry = ch.resend.peek();
        while (entry && entry.message.isAcked(entry.unit)) {
          entry.message.setRequeued(entry.unit, false);
          ch.resend.shift();
          entry = ch.resend.peek();
        }
        let message = entry?.message;
        let unit = entry?.unit ?? 0;
        if (!message) {
          resend = false;
          message = ch.fresh.peek();
          if (!message) break;
          unit = message.nextUnit;
        }
        const data = message.unitData(unit);
        rec.channel = ch.index;
        rec.data = data;
        rec.id = message.id >= 0 ? wrap(message.id) : undefined;
        rec.fragment = message.fragmented ? { index: unit, count: message.units } : undefined;
        const implied = ch.carriesIds && !rec.fragment && lastId !== undefined && seqAdd(lastId, 1) === rec.id;
        const size = recordSize(rec, implied);
        if (size > budget) break;
        writeRecord(w, rec, implied);
        budget -= size;
        records++;
        lastId = rec.fragment ? undefined : rec.id;
        if (resend) {
          ch.resend.shift();
          message.setRequeued(unit, false);
          resent.push({ unit: { message, unit }, previous: message.lastPacket(unit) });
        } else if (++message.nextUnit >= message.units) {
          ch.fresh.shift();
        }
        if (ch.reliable) {
          message.setLastPacket(unit, seq);
          units.push({ message, unit });
          ch.noteSent(message, unit, resend);
        } else {
          ch.releaseSent(data.length);
        }
        if (trace) {
          const t: TraceRecord = { channel: ch.index, size: data.length, retransmit: resend };
          if (rec.id !== undefined) t.id = rec.id;
          if (rec.fragment) t.fragment = [rec.fragment.index, rec.fragment.count];
          trace.push(t);
        }
      }
    }
    if (allow === 'all') {
      for (const ch of this.order) {
        if (ch.recent.length === 0) continue;
        const copied = this.copyRecent(ch, seq, w, budget, units, trace);
        budget = copied.budget;
        records += copied.records;
        redundant += copied.records;
      }
    }
    rec.data = EMPTY; // hold no message past this call
    return { bytes: w.written().slice(), units, records, resent, redundant, trace };
  }

  /**
   * Redundancy: copies of the channel's recent small units not yet acknowledged, oldest first, while they fit.
   * A copy counts as the unit's latest carrier (its loss, not the original's, then decides a resend).
   */
  private copyRecent(
    ch: SendChannel,
    seq: number,
    w: ByteWriter,
    budget: number,
    units: SentUnit[],
    trace: TraceRecord[] | undefined,
  ): { budget: number; records: number } {
    const recent = ch.recent;
    const limit = ch.copyLimit;
    let records = 0;
    let keep = 0;
    for (let i = 0; i < recent.length; i++) {
      const r = recent[i]!;
      if (r.message.isAcked(r.unit) || r.copies >= Math.max(limit, r.minCopies)) continue; // done with: dropped from the list
      recent[keep++] = r;
      if (r.message.lastPacket(r.unit) === seq) continue; // already in this packet
      const m = r.message;
      const rec: MessageRecord = { channel: ch.index, data: m.unitData(r.unit), id: wrap(m.id) };
      if (m.fragmented) rec.fragment = { index: r.unit, count: m.units };
      const size = recordSize(rec, false);
      if (size > budget) continue;
      writeRecord(w, rec, false);
      budget -= size;
      records++;
      r.copies++;
      m.setLastPacket(r.unit, seq);
      units.push({ message: m, unit: r.unit });
      if (trace) {
        const t: TraceRecord = { channel: ch.index, size: rec.data.length, retransmit: true, redundant: true, id: rec.id! };
        if (rec.fragment) t.fragment = [rec.fragment.index, rec.fragment.count];
        trace.push(t);
      }
    }
    recent.length = keep;
    return { budget, records };
  }
}
