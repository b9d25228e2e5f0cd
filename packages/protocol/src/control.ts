/**
 * Control packets: connection setup and teardown, outside the sequenced packet stream
 * (docs/protocol.md §5). Prefix byte 0b01tttttt, t = control type.
 *
 *   CONNECT    version u8 | nonce u32 | attempt u8 | max ack delay u8 | channel count u8 | channel spec × count | payload length u16 | payload
 *              channel spec = kind u8 | window u16 | max message size u32 | max queued bytes u32
 *              then zero padding up to MIN_CONNECT_SIZE bytes
 *   ACCEPT     nonce u32 | connection id u32 | attempt u8 | max ack delay u8 | session token (16 bytes) | received at f64 |
 *              sent at f64
 *   REJECT     nonce u32 | reason u8 | text length u8 | text (UTF-8)
 *   DISCONNECT connection id u32 | reason u8 | text length u8 | text (UTF-8)
 *   RESUME     connection id u32 | session token (16 bytes), then zero padding up to MIN_CONNECT_SIZE bytes
 *   RESUMED    connection id u32
 *
 * ACCEPT's times are the server's clock (ms) when the CONNECT attempt it answers arrived and when it left: with
 * the client's own send and arrival times they make the first clock sample (handshake.ts). Each side's max ack
 * delay (ms, 0–MAX_ACK_DELAY) is the longest it will hold an owed ack: the other side's probe timeout allows for it.
 *
 * No reply is ever larger than the request that caused it: ACCEPT is 43 bytes and a CONNECT at least 48;
 * REJECT's text is cut to fit; RESUMED is 5 bytes. RESUME moves a session to another transport or address
 * (docs/transports.md); the host handles it, a Connection ignores it.
 */

import { ByteReader, ByteWriter, DecodeError } from './bytes.js';
import type { ChannelSpec } from './channel-config.js';
import { PacketKind } from './header.js';
import { decodeText, encodeText } from './text.js';

/** 4: CONNECT and ACCEPT carry each side's max ack delay, and the ack delay byte reaches 111 ms (docs/protocol.md). */
export const PROTOCOL_VERSION = 4;
/** Largest max ack delay a peer may announce, ms. */
export const MAX_ACK_DELAY = 100;
const CHANNEL_SPEC_SIZE = 11;
/** prefix | nonce | connection id | attempt | token | received at | sent at. */
export const ACCEPT_SIZE = 1 + 4 + 4 + 1 + 1 + 16 + 8 + 8;

export const ControlType = { Connect: 1, Accept: 2, Reject: 3, Disconnect: 4, Resume: 5, Resumed: 6 } as const;

/** CONNECT and RESUME are padded to at least this many bytes, so no reply can be larger. */
export const MIN_CONNECT_SIZE = 48;
/** Bytes of the session token that proves a RESUME comes from the session's own client. */
export const SESSION_TOKEN_SIZE = 16;

/** Most application bytes a CONNECT can carry (e.g. an auth token). */
export const MAX_CONNECT_PAYLOAD = 1024;
/** Longest reason text in a DISCONNECT. */
export const MAX_REASON_TEXT = 200;

export interface ConnectPacket {
  type: 'connect';
  version: number;
  /** Random number chosen by the client for this connection attempt series. */
  nonce: number;
  /** Retry counter, echoed by ACCEPT so the client can time the handshake round trip. */
  attempt: number;
  /** Longest the client holds an owed ack, ms (0–MAX_ACK_DELAY, whole). */
  maxAckDelay: number;
  /** The channel layout, so a mismatch is refused clearly instead of corrupting messages. */
  channels: ChannelSpec[];
  payload: Uint8Array;
}
export interface AcceptPacket {
  type: 'accept';
  nonce: number;
  connectionId: number;
  attempt: number;
  /** Longest the server holds an owed ack, ms (0–MAX_ACK_DELAY, whole). */
  maxAckDelay: number;
  /** Secret the client shows to resume the session on another transport. */
  token: Uint8Array;
  /** Server clock (ms) when the CONNECT attempt answered arrived, and when this ACCEPT was sent. */
  receivedAt: number;
  sentAt: number;
}
export interface RejectPacket {
  type: 'reject';
  nonce: number;
  reason: number;
  text: string;
}
export interface DisconnectPacket {
  type: 'disconnect';
  connectionId: number;
  reason: number;
  text: string;
}
export interface ResumePacket {
  type: 'resume';
  connectionId: number;
  token: Uint8Array;
}
export interface ResumedPacket {
  type: 'resumed';
  connectionId: number;
}
export type ControlPacket = ConnectPacket | AcceptPacket | RejectPacket | DisconnectPacket | ResumePacket | ResumedPacket;

const PREFIX = PacketKind.Control << 6;

export function encodeControl(p: ControlPacket): Uint8Array {
  switch (p.type) {
    case 'connect': {
      if (p.payload.length > MAX_CONNECT_PAYLOAD) {
        throw new RangeError(`connect payload of ${p.payload.length} bytes exceeds ${MAX_CONNECT_PAYLOAD}`);
      }
      const w = ByteWriter.ofSize(Math.max(MIN_CONNECT_SIZE, 11 + CHANNEL_SPEC_SIZE * p.channels.length + p.payload.length));
      w.u8(PREFIX | ControlType.Connect)
        .u8(p.version)
        .u32(p.nonce >>> 0)
        .u8(p.attempt & 0xff)
        .u8(ackDelay(p.maxAckDelay))
        .u8(p.channels.length);
      for (const c of p.channels) w.u8(c.kind).u16(c.window).u32(c.maxMessageSize).u32(c.maxQueuedBytes);
      w.u16(p.payload.length).raw(p.payload);
      return w.bytes; // the rest is zero padding
    }
    case 'accept':
      return ByteWriter.ofSize(ACCEPT_SIZE)
        .u8(PREFIX | ControlType.Accept)
        .u32(p.nonce >>> 0)
        .u32(p.connectionId >>> 0)
        .u8(p.attempt & 0xff)
        .u8(ackDelay(p.maxAckDelay))
        .raw(token(p.token))
        .f64(p.receivedAt)
        .f64(p.sentAt).bytes;
    case 'resume':
      return ByteWriter.ofSize(MIN_CONNECT_SIZE)
        .u8(PREFIX | ControlType.Resume)
        .u32(p.connectionId >>> 0)
        .raw(token(p.token)).bytes;
    case 'resumed':
      return ByteWriter.ofSize(5)
        .u8(PREFIX | ControlType.Resumed)
        .u32(p.connectionId >>> 0).bytes;
    case 'reject':
    case 'disconnect': {
      const text = encodeText(p.text, MAX_REASON_TEXT);
      const w = ByteWriter.ofSize(7 + text.length);
      w.u8(PREFIX | (p.type === 'reject' ? ControlType.Reject : ControlType.Disconnect));
      w.u32((p.type === 'reject' ? p.nonce : p.connectionId) >>> 0);
      return w
        .u8(p.reason & 0xff)
        .u8(text.length)
        .raw(text).bytes;
    }
  }
}

function ackDelay(ms: number): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_ACK_DELAY)
    throw new RangeError(`max ack delay must be a whole 0..${MAX_ACK_DELAY} ms, got ${ms}`);
  return ms;
}

function readAckDelay(r: ByteReader): number {
  const ms = r.u8('max ack delay');
  if (ms > MAX_ACK_DELAY) throw new DecodeError(`max ack delay ${ms} ms over ${MAX_ACK_DELAY}`);
  return ms;
}

function token(t: Uint8Array): Uint8Array {
  if (t.length !== SESSION_TOKEN_SIZE) throw new RangeError(`session token must be ${SESSION_TOKEN_SIZE} bytes, got ${t.length}`);
  return t;
}

/** A REJECT for `connect`, its text cut so the reply is no larger than the request. */
export function encodeRejectFor(connectSize: number, nonce: number, reason: number, text: string): Uint8Array {
  return encodeControl({ type: 'reject', nonce, reason, text: decodeText(encodeText(text, Math.max(0, connectSize - 7))) });
}

/** Decodes a control packet. Throws DecodeError on malformed input (including trailing bytes). */
export function decodeControl(datagram: Uint8Array): ControlPacket {
  const r = new ByteReader(datagram);
  const prefix = r.u8('prefix');
  if (prefix >>> 6 !== PacketKind.Control) throw new DecodeError('not a control packet');
  let p: ControlPacket;
  switch (prefix & 0x3f) {
    case ControlType.Connect: {
      // Every version pads CONNECT to MIN_CONNECT_SIZE: a shorter one could draw a larger ACCEPT or REJECT.
      if (datagram.length < MIN_CONNECT_SIZE) throw new DecodeError(`CONNECT of ${datagram.length} bytes, under ${MIN_CONNECT_SIZE}`);
      const version = r.u8('version');
      const nonce = r.u32('nonce');
      const attempt = r.u8('attempt');
      if (version !== PROTOCOL_VERSION) {
        // Another version lays out the rest differently: keep what every version shares, so the server can say
        // VersionMismatch instead of dropping the request as malformed.
        p = { type: 'connect', version, nonce, attempt, maxAckDelay: 0, channels: [], payload: new Uint8Array(0) };
        r.offset = r.bytes.length;
        break;
      }
      const maxAckDelay = readAckDelay(r);
      const count = r.u8('channel count');
      const channels: ChannelSpec[] = [];
      for (let i = 0; i < count; i++) {
        channels.push({
          kind: r.u8('channel kind'),
          window: r.u16('channel window'),
          maxMessageSize: r.u32('max message size'),
          maxQueuedBytes: r.u32('max queued bytes'),
        });
      }
      const len = r.u16('payload length');
      if (len > MAX_CONNECT_PAYLOAD) throw new DecodeError(`connect payload length ${len} over ${MAX_CONNECT_PAYLOAD}`);
      p = { type: 'connect', version, nonce, attempt, maxAckDelay, channels, payload: r.bytesView(len, 'connect payload').slice() };
      skipPadding(r);
      break;
    }
    case ControlType.Accept:
      p = {
        type: 'accept',
        nonce: r.u32('nonce'),
        connectionId: r.u32('connection id'),
        attempt: r.u8('attempt'),
        maxAckDelay: readAckDelay(r),
        token: r.bytesView(SESSION_TOKEN_SIZE, 'session token').slice(),
        receivedAt: r.f64('received at'),
        sentAt: r.f64('sent at'),
      };
      if (!Number.isFinite(p.receivedAt) || !Number.isFinite(p.sentAt)) throw new DecodeError('non-finite time in ACCEPT');
      break;
    case ControlType.Resume:
      p = { type: 'resume', connectionId: r.u32('connection id'), token: r.bytesView(SESSION_TOKEN_SIZE, 'session token').slice() };
      skipPadding(r);
      break;
    case ControlType.Resumed:
      p = { type: 'resumed', connectionId: r.u32('connection id') };
      break;
    case ControlType.Reject:
    case ControlType.Disconnect: {
      const isReject = (prefix & 0x3f) === ControlType.Reject;
      const id = r.u32(isReject ? 'nonce' : 'connection id');
      const reason = r.u8('reason');
      const text = decodeText(r.bytesView(r.u8('text length'), 'reason text'));
      p = isReject ? { type: 'reject', nonce: id, reason, text } : { type: 'disconnect', connectionId: id, reason, text };
      break;
    }
    default:
      throw new DecodeError(`unknown control type ${prefix & 0x3f}`);
  }
  if (r.remaining !== 0) throw new DecodeError(`${r.remaining} trailing byte(s) after control packet`);
  return p;
}

/** Padding after CONNECT and RESUME: zero bytes only. */
function skipPadding(r: ByteReader): void {
  while (r.remaining > 0) if (r.u8('padding') !== 0) throw new DecodeError('non-zero padding');
}
