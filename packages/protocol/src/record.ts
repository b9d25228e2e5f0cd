/**
 * Message records: the body of a data packet is a run of records, one per message (or fragment).
 *
 * Record layout (docs/protocol.md §3):
 *   flags u8 | [message id u16] | [fragment index u16, fragment count u16] | length (u8 or u16) | payload
 * flags bits 0–3: channel (0–14 for the application, 15 for the protocol's own control records);
 * bit 4 (I): message id present; bit 5 (F): fragment info present (implies I); bit 6 (L): u16 length;
 * bit 7: reserved, zero.
 * On a channel whose messages carry ids, a whole (unfragmented) record without I has the id of the
 * previous record of the same channel in the same packet plus one. A small unreliable message costs
 * 2 bytes of overhead, a reliable one 4 (2 when its id is implied).
 */

import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { seqAdd } from './sequence.js';

export const CONTROL_CHANNEL = 15;
export const MAX_CHANNELS = 15;

const CHANNEL_MASK = 0x0f;
const ID_FLAG = 0x10;
const FRAGMENT_FLAG = 0x20;
const LONG_FLAG = 0x40;
const RESERVED_FLAG = 0x80;

export interface FragmentInfo {
  /** 0-based index of this fragment. */
  index: number;
  /** Number of fragments of the message, ≥ 2. */
  count: number;
}

export interface MessageRecord {
  channel: number;
  /** 16-bit message id; absent on unreliable whole messages and control records. */
  id?: number;
  fragment?: FragmentInfo;
  /** Payload (a view into the packet when decoded). */
  data: Uint8Array;
}

/** Largest record header: flags + id + fragment info + u16 length. */
export const MAX_RECORD_HEADER_SIZE = 9;

/** Bytes a record takes on the wire; `idImplied` when its id follows from the previous record. */
export function recordSize(record: MessageRecord, idImplied: boolean): number {
  let n = 1 + record.data.length + (record.data.length > 0xff ? 2 : 1);
  if (record.id !== undefined && !idImplied) n += 2;
  if (record.fragment) n += 4;
  return n;
}

export function writeRecord(w: ByteWriter, record: MessageRecord, idImplied: boolean): void {
  const len = record.data.length;
  const withId = record.id !== undefined && !idImplied;
  let flags = record.channel & CHANNEL_MASK;
  if (withId) flags |= ID_FLAG;
  if (record.fragment) flags |= FRAGMENT_FLAG;
  if (len > 0xff) flags |= LONG_FLAG;
  w.u8(flags);
  if (withId) w.u16(record.id!);
  if (record.fragment) w.u16(record.fragment.index).u16(record.fragment.count);
  if (len > 0xff) w.u16(len);
  else w.u8(len);
  w.raw(record.data);
}

/**
 * How the decoder should treat a channel: 'id' for channels whose messages carry ids (reliable kinds,
 * unreliable-sequenced), 'plain' for unreliable channels and the control channel, undefined for a
 * channel the connection does not have (the record is malformed).
 */
export type ChannelIdMode = 'id' | 'plain' | undefined;

/**
 * Decodes every record up to the end of the packet. Throws DecodeError on anything malformed:
 * truncated fields, lengths past the end, reserved bits, unknown channels, impossible fragment info,
 * an implied id with nothing to imply it from.
 */
export function readRecords(r: ByteReader, idMode: (channel: number) => ChannelIdMode, reuse?: RecordPool): MessageRecord[] {
  const records: MessageRecord[] = reuse ? reuse.records : [];
  records.length = 0;
  const lastId: (number | undefined)[] = reuse ? reuse.lastId : [];
  lastId.length = 0;
  while (r.remaining > 0) {
    const flags = r.u8('record flags');
    if (flags & RESERVED_FLAG) throw new DecodeError('record with reserved flag bit set');
    const channel = flags & CHANNEL_MASK;
    const mode = idMode(channel);
    if (mode === undefined) throw new DecodeError(`record on unknown channel ${channel}`);
    let id: number | undefined;
    if (flags & ID_FLAG) {
      id = r.u16('message id');
    } else if (flags & FRAGMENT_FLAG) {
      throw new DecodeError('fragment record without a message id');
    } else if (mode === 'id') {
      const prev = lastId[channel];
      if (prev === undefined) throw new DecodeError(`implied message id on channel ${channel} with no previous record`);
      id = seqAdd(prev, 1);
    }
    if (id !== undefined && mode === 'plain' && !(flags & FRAGMENT_FLAG)) {
      throw new DecodeError(`message id on channel ${channel}, which carries none`);
    }
    let fragment: FragmentInfo | undefined;
    if (flags & FRAGMENT_FLAG) {
      const index = r.u16('fragment index');
      const count = r.u16('fragment count');
      if (count < 2 || index >= count) throw new DecodeError(`bad fragment ${index}/${count}`);
      fragment = { index, count };
    }
    const len = flags & LONG_FLAG ? r.u16('record length') : r.u8('record length');
    const data = r.bytesView(len, 'record payload');
    lastId[channel] = fragment ? undefined : id;
    if (reuse) {
      const rec = reuse.take();
      rec.channel = channel;
      rec.data = data;
      rec.id = id;
      rec.fragment = fragment;
      records.push(rec);
    } else {
      const rec: MessageRecord = { channel, data };
      if (id !== undefined) rec.id = id;
      if (fragment) rec.fragment = fragment;
      records.push(rec);
    }
  }
  return records;
}

/**
 * Record objects and arrays a connection reuses for every packet it decodes, so decoding allocates no object
 * per record. What readRecords returns with it is valid until the next call: the caller must not keep the
 * records (their `data` and `fragment` it may keep: those are new each time).
 */
export class RecordPool {
  readonly records: MessageRecord[] = [];
  readonly lastId: (number | undefined)[] = [];
  private readonly free: MessageRecord[] = [];

  /** The next record object for this packet (the pool grows to the most records a packet has had). */
  take(): MessageRecord {
    const i = this.records.length;
    let rec = this.free[i];
    if (!rec) {
      rec = { channel: 0, data: EMPTY_DATA, id: undefined, fragment: undefined };
      this.free[i] = rec;
    }
    return rec;
  }
}

const EMPTY_DATA = new Uint8Array(0);

/** Encodes records on their own (no header), resolving implied ids as the packet builder does. */
export function encodeRecords(records: MessageRecord[], idMode: (channel: number) => ChannelIdMode): Uint8Array {
  const lastId: (number | undefined)[] = [];
  const implied = records.map((rec) => {
    const imp =
      rec.id !== undefined &&
      !rec.fragment &&
      idMode(rec.channel) === 'id' &&
      lastId[rec.channel] !== undefined &&
      seqAdd(lastId[rec.channel]!, 1) === rec.id;
    lastId[rec.channel] = rec.fragment ? undefined : rec.id;
    return imp;
  });
  const size = records.reduce((n, rec, i) => n + recordSize(rec, implied[i]!), 0);
  const w = ByteWriter.ofSize(size);
  records.forEach((rec, i) => writeRecord(w, rec, implied[i]!));
  return w.bytes;
}

/** Decodes a standalone run of records (as produced by `encodeRecords`). */
export function decodeRecords(bytes: Uint8Array, idMode: (channel: number) => ChannelIdMode): MessageRecord[] {
  return readRecords(new ByteReader(bytes), idMode);
}
