/**
 * Packet header codec: the first bytes of every datagram.
 *
 * Layout (docs/protocol.md §2):
 *   prefix u8 | sequence u16 | ack (u8 delta or u16) | 0–4 ack-bitfield bytes | ack delay u8 (optional)
 * Prefix bits 7–6 give the packet kind (data with acks, data without acks, control). For a data packet
 * with acks, bits 0–3 say which bytes of the 32-bit ack bitfield are present (an absent byte is 0xFF),
 * bit 4 says the ack is a one-byte delta below the packet's own sequence, bit 5 that an ack delay follows.
 * Bit i of the ack bitfield acknowledges packet ack − 1 − i; `ack` itself is always acknowledged.
 */

import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { SEQUENCE_MASK } from './sequence.js';

export const PacketKind = {
  /** Sequenced packet that carries acknowledgements. */
  Data: 0,
  /** Control packet (connect, accept, reject, disconnect); see control.ts. */
  Control: 1,
  /** Sequenced packet sent before anything has been received from the peer: no ack fields. */
  DataNoAck: 2,
} as const;
export type PacketKind = (typeof PacketKind)[keyof typeof PacketKind];

const KIND_SHIFT = 6;
const ACK_DELTA_FLAG = 0x10;
const ACK_DELAY_FLAG = 0x20;

/**
 * Ack delay travels as one byte v: v ≤ 160 means v × 100 µs (0–16 ms), above that 16 + (v − 160) ms, saturating
 * at 255 (111 ms). Fine where round trips are short, and room for a peer that holds acks for a whole tick.
 */
export const ACK_DELAY_UNIT_MS = 0.1;
const ACK_DELAY_FINE_CODES = 160;
const ACK_DELAY_FINE_MS = ACK_DELAY_FINE_CODES * ACK_DELAY_UNIT_MS;
export const ACK_DELAY_MAX_MS = ACK_DELAY_FINE_MS + (255 - ACK_DELAY_FINE_CODES);

/** Largest header: prefix + sequence + u16 ack + 4 bitfield bytes + ack delay. */
export const MAX_HEADER_SIZE = 10;
/** Smallest header: prefix + sequence (a packet without acks). */
export const MIN_HEADER_SIZE = 3;

export interface AckInfo {
  /** Newest packet sequence received from the peer (16-bit). */
  ack: number;
  /** Bit i set: packet ack − 1 − i was received too. Unsigned 32-bit. */
  bits: number;
  /** Time from receiving `ack` to sending this header, ms; omitted when 0 or unknown. */
  delay?: number;
}

export interface PacketHeader {
  /** 16-bit packet sequence. */
  sequence: number;
  /** Absent on a packet sent before anything arrived from the peer. */
  ack?: AckInfo;
}

/** The packet kind of a datagram, or undefined when the prefix names no known kind. */
export function packetKindOf(datagram: Uint8Array): PacketKind | undefined {
  if (datagram.length === 0) return undefined;
  const kind = datagram[0]! >>> KIND_SHIFT;
  return kind === 3 ? undefined : (kind as PacketKind);
}

/** Bytes `writeHeader` will use for this header. */
export function headerSize(header: PacketHeader): number {
  const a = header.ack;
  if (!a) return MIN_HEADER_SIZE;
  let n = MIN_HEADER_SIZE + (((header.sequence - a.ack) & SEQUENCE_MASK) <= 0xff ? 1 : 2);
  for (let i = 0; i < 4; i++) if (((a.bits >>> (8 * i)) & 0xff) !== 0xff) n++;
  if (encodeAckDelay(a.delay) > 0) n++;
  return n;
}

/** The ack delay byte for `delay` ms (0: none, the field is left out). */
export function encodeAckDelay(delay: number | undefined): number {
  if (delay === undefined || !(delay > 0)) return 0;
  if (delay < ACK_DELAY_FINE_MS) return Math.round(delay / ACK_DELAY_UNIT_MS);
  return Math.min(255, ACK_DELAY_FINE_CODES + Math.round(delay - ACK_DELAY_FINE_MS));
}

/** The delay (ms) an ack delay byte stands for. */
export function decodeAckDelay(code: number): number {
  return code <= ACK_DELAY_FINE_CODES ? code * ACK_DELAY_UNIT_MS : ACK_DELAY_FINE_MS + (code - ACK_DELAY_FINE_CODES);
}

export function writeHeader(w: ByteWriter, header: PacketHeader): void {
  const seq = header.sequence & SEQUENCE_MASK;
  const a = header.ack;
  if (!a) {
    w.u8(PacketKind.DataNoAck << KIND_SHIFT).u16(seq);
    return;
  }
  const ack = a.ack & SEQUENCE_MASK;
  const delta = (seq - ack) & SEQUENCE_MASK;
  const delay = encodeAckDelay(a.delay);
  let prefix = PacketKind.Data << KIND_SHIFT;
  for (let i = 0; i < 4; i++) if (((a.bits >>> (8 * i)) & 0xff) !== 0xff) prefix |= 1 << i;
  if (delta <= 0xff) prefix |= ACK_DELTA_FLAG;
  if (delay > 0) prefix |= ACK_DELAY_FLAG;
  w.u8(prefix).u16(seq);
  if (delta <= 0xff) w.u8(delta);
  else w.u16(ack);
  for (let i = 0; i < 4; i++) {
    const byte = (a.bits >>> (8 * i)) & 0xff;
    if (byte !== 0xff) w.u8(byte);
  }
  if (delay > 0) w.u8(delay);
}

export function encodeHeader(header: PacketHeader): Uint8Array {
  const w = ByteWriter.ofSize(headerSize(header));
  writeHeader(w, header);
  return w.bytes;
}

/** Decodes a data packet header (kind Data or DataNoAck). Throws DecodeError on malformed input. */
export function readHeader(r: ByteReader): PacketHeader {
  const prefix = r.u8('prefix');
  const kind = prefix >>> KIND_SHIFT;
  const sequence = r.u16('sequence');
  if (kind === PacketKind.DataNoAck) {
    if ((prefix & 0x3f) !== 0) throw new DecodeError('data-no-ack packet with flag bits set');
    return { sequence };
  }
  if (kind !== PacketKind.Data) throw new DecodeError(`not a data packet (kind ${kind})`);
  const ack = prefix & ACK_DELTA_FLAG ? (sequence - r.u8('ack delta')) & SEQUENCE_MASK : r.u16('ack');
  let bits = 0;
  for (let i = 0; i < 4; i++) {
    const byte = prefix & (1 << i) ? r.u8('ack bitfield') : 0xff;
    bits |= byte << (8 * i);
  }
  const info: AckInfo = { ack, bits: bits >>> 0 };
  if (prefix & ACK_DELAY_FLAG) info.delay = decodeAckDelay(r.u8('ack delay'));
  return { sequence, ack: info };
}

export function decodeHeader(datagram: Uint8Array): PacketHeader {
  return readHeader(new ByteReader(datagram));
}
