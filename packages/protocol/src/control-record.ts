/**
 * Records on the protocol's own channel (15): ping and pong (docs/protocol.md §7).
 *   PING  type u8 = 1 | seq u16 | sent at f64 | zero padding                      (PING_SIZE = 30 bytes)
 *   PONG  type u8 = 2 | seq u16 | pings received u32 | received at f64 | sent at f64 (PONG_SIZE = 23 bytes)
 * Timestamps are each side's own clock in milliseconds, as float64.
 *
 * A PONG is never larger than the PING it answers, on the wire: a PING is padded to the PONG's size plus the
 * most two packet headers can differ by (MAX_HEADER_SIZE − MIN_HEADER_SIZE), so a datagram carrying only a
 * PING is never smaller than one carrying only its PONG, whatever acks either header holds. A PING of any
 * other size, or with a non-zero padding byte, is malformed: it is never answered.
 */

import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { MAX_HEADER_SIZE, MIN_HEADER_SIZE } from './header.js';
import type { Ping, Pong } from './ping.js';

const PING = 1;
const PONG = 2;

/** type | seq | pings received | received at | sent at. */
export const PONG_SIZE = 1 + 2 + 4 + 8 + 8;
/** type | seq | sent at | zero padding: a PONG and the widest header difference (7 bytes). */
export const PING_SIZE = PONG_SIZE + MAX_HEADER_SIZE - MIN_HEADER_SIZE;
const PING_FIELDS = 1 + 2 + 8;

export type ControlRecord = { type: 'ping'; ping: Ping } | { type: 'pong'; pong: Pong };

export function encodePing(p: Ping): Uint8Array {
  return ByteWriter.ofSize(PING_SIZE).u8(PING).u16(p.seq).f64(p.sentAt).bytes; // the rest stays zero
}

export function encodePong(p: Pong): Uint8Array {
  return ByteWriter.ofSize(PONG_SIZE)
    .u8(PONG)
    .u16(p.seq)
    .u32(p.pingsReceived >>> 0)
    .f64(p.receivedAt)
    .f64(p.sentAt).bytes;
}

export function decodeControlRecord(data: Uint8Array): ControlRecord {
  const r = new ByteReader(data);
  const type = r.u8('control record type');
  let rec: ControlRecord;
  if (type === PING) {
    if (data.length !== PING_SIZE) throw new DecodeError(`PING of ${data.length} bytes (must be ${PING_SIZE}, padded with zeros)`);
    rec = { type: 'ping', ping: { seq: r.u16('ping seq'), sentAt: r.f64('ping time') } };
    for (let i = PING_FIELDS; i < PING_SIZE; i++) if (data[i] !== 0) throw new DecodeError('non-zero padding in PING');
    r.offset = PING_SIZE;
  } else if (type === PONG) {
    rec = {
      type: 'pong',
      pong: {
        seq: r.u16('pong seq'),
        pingsReceived: r.u32('pings received'),
        receivedAt: r.f64('receive time'),
        sentAt: r.f64('pong time'),
      },
    };
  } else {
    throw new DecodeError(`unknown control record type ${type}`);
  }
  if (r.remaining !== 0) throw new DecodeError('trailing bytes in control record');
  const times = rec.type === 'ping' ? [rec.ping.sentAt] : [rec.pong.receivedAt, rec.pong.sentAt];
  if (!times.every(Number.isFinite)) throw new DecodeError('non-finite timestamp in control record');
  return rec;
}
