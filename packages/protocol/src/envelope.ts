/**
 * The SDK's message envelope: what `client.send(type, data)` and `session.send(type, data)` put inside a
 * protocol message (docs/transports.md "Messages").
 *
 *   flags u8 | type length u8 | type (UTF-8, 1–255 bytes) | body
 * flags bit 0: the body is raw bytes, passed through untouched; otherwise it is MessagePack (encoded and
 * decoded by the SDKs with @msgpack/msgpack). Bit 1 marks a room frame instead (room-frame.ts, docs/protocol.md
 * §9): the SDKs route those before they get here. Other bits are reserved, zero.
 */

import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import { decodeText, encodeText } from './text.js';

const RAW = 0x01;

export interface Envelope {
  type: string;
  raw: boolean;
  body: Uint8Array;
}

export function encodeEnvelope(type: string, body: Uint8Array, raw: boolean): Uint8Array {
  const t = encodeText(type, 255);
  if (t.length === 0 || t.length !== encodeText(type, 1024).length) {
    throw new RangeError(`message type must be 1–255 bytes of UTF-8, got ${JSON.stringify(type.slice(0, 40))}`);
  }
  return ByteWriter.ofSize(2 + t.length + body.length)
    .u8(raw ? RAW : 0)
    .u8(t.length)
    .raw(t)
    .raw(body).bytes;
}

/** Throws DecodeError on a malformed envelope. `body` is a view into `bytes`. */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  const r = new ByteReader(bytes);
  const flags = r.u8('envelope flags');
  if (flags & ~RAW) throw new DecodeError('reserved envelope flags set');
  const len = r.u8('type length');
  if (len === 0) throw new DecodeError('empty message type');
  const type = decodeText(r.bytesView(len, 'message type'));
  return { type, raw: (flags & RAW) !== 0, body: r.bytesView(r.remaining, 'body') };
}
