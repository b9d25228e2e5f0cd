/**
 * Records on the protocol's own channel (15): ping and pong (docs/protocol.md §7).
 *   PING  type u8 = 1 | seq u16 | sent at f64
 *   PONG  type u8 = 2 | seq u16 | pings received u32 | ping sent at f64 | received at f64 | sent at f64
 * Timestamps are each side's own clock in milliseconds, as float64.
 */

import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import type { Ping, Pong } from './ping.js';

const PING = 1;
const PONG = 2;

export type ControlRecord = { type: 'ping'; ping: Ping } | { type: 'pong'; pong: Pong };

export function encodePing(p: Ping): Uint8Array {
  return ByteWriter.ofSize(11).u8(PING).u16(p.seq).f64(p.sentAt).bytes;
}

export function encodePong(p: Pong): Uint8Array {
  return ByteWriter.ofSize(31)
    .u8(PONG)
    .u16(p.seq)
    .u32(p.pingsReceived >>> 0)
    .f64(p.pingSentAt)
    .f64(p.receivedAt)
    .f64(p.sentAt).bytes;
}

export function decodeControlRecord(data: Uint8Array): ControlRecord {
  const r = new ByteReader(data);
  const type = r.u8('control record type');
  let rec: ControlRecord;
  if (type === PING) {
    rec = { type: 'ping', ping: { seq: r.u16('ping seq'), sentAt: r.f64('ping time') } };
  } else if (type === PONG) {
    rec = {
      type: 'pong',
      pong: {
        seq: r.u16('pong seq'),
        pingsReceived: r.u32('pings received'),
        pingSentAt: r.f64('ping time'),
        receivedAt: r.f64('receive time'),
        sentAt: r.f64('pong time'),
      },
    };
  } else {
    throw new DecodeError(`unknown control record type ${type}`);
  }
  if (r.remaining !== 0) throw new DecodeError('trailing bytes in control record');
  const times = rec.type === 'ping' ? [rec.ping.sentAt] : [rec.pong.pingSentAt, rec.pong.receivedAt, rec.pong.sentAt];
  if (!times.every(Number.isFinite)) throw new DecodeError('non-finite timestamp in control record');
  return rec;
}
