/**
 * Room frames: how rooms are multiplexed over one session (docs/protocol.md §9). A room frame is a protocol
 * message like any other (it rides the session's channels, no handshake or socket of its own); its first
 * byte is the SDK envelope's flags with bit 1 (ROOM) set, so the SDKs tell it from a plain message at once:
 *
 *   flags u8 (0x02 | 0x01 when the body is raw) | room varint | op u8 | fields of the op
 *
 * `room` is a handle the server gives the session when it joins a room (1, 2, …; 0 is the matchmaker,
 * before there is a room). Client → server ops are 0x01–0x3f, server → client ops 0x41–0x7f.
 *
 * Strings are a varint length and UTF-8, each with a cap; a message type is 1–255 bytes like the envelope's.
 * Bodies run to the end of the frame. Every decoder throws DecodeError on anything it cannot read: a
 * truncated field, a string over its cap, an unknown op or method, reserved flags, a handle of 0 where a
 * room is needed (or one where none is).
 */

import { ByteReader, DecodeError } from './bytes.js';
import { decodeText, encodeText } from './text.js';
import { readVarint, varintSize, writeVarint } from './varint.js';

/** Bit 1 of the envelope's flags byte: this message is a room frame. */
export const ROOM_FLAG = 0x02;
const RAW_FLAG = 0x01;

export const RoomOp = {
  Join: 0x01,
  Leave: 0x02,
  Send: 0x03,
  Resync: 0x04,
  List: 0x05,
  Input: 0x06,
  Joined: 0x41,
  JoinError: 0x42,
  State: 0x43,
  Patch: 0x44,
  UnreliablePatch: 0x45,
  Message: 0x46,
  Left: 0x47,
  Rooms: 0x48,
  Digest: 0x49,
  Redirect: 0x4a,
} as const;

/** How a JOIN finds its room; its target is a room type name, a room id (joinById), a reconnection token, or `roomId:sessionId` (seat). */
export const JOIN_METHODS = ['joinOrCreate', 'create', 'join', 'joinById', 'reconnect', 'seat'] as const;
export type JoinMethod = (typeof JOIN_METHODS)[number];

/** The methods a REDIRECT may send a client on with: a seat reserved there, or its reconnection token. */
export type RedirectMethod = 'seat' | 'reconnect';

/** Why a JOIN failed: the `code` of a JOIN_ERROR frame (the client's RoomError code names them). */
export const JoinErrorCode = {
  /** No room type of that name is defined. */
  UnknownRoomType: 1,
  /** `join`: no room of that type matches (or has a seat). */
  NoRoomFound: 2,
  /** `joinById` / `reconnect`: no such room (here or anywhere). */
  RoomNotFound: 3,
  /** The room is full, locked, or disposing. */
  RoomUnavailable: 4,
  /** The room's onAuth said no (the message is its reason). */
  Rejected: 5,
  /** The seat reservation or reconnection token expired, or was never valid. */
  Expired: 6,
  /** The room's onCreate or onJoin threw. */
  Failed: 7,
  /** The request itself is unusable (options that are no MessagePack, a bad room name). */
  BadRequest: 8,
  /** The session is in too many rooms, or has too many joins pending. */
  Limit: 9,
} as const;
export type JoinErrorCode = (typeof JoinErrorCode)[keyof typeof JoinErrorCode];

/**
 * Why a client left a room: the `code` of a LEFT frame, and of the room's onLeave / the client's onLeave.
 * 0–99 are these; 100–65535 are the application's (`client.leave(code, text)`).
 */
export const LeaveCode = {
  /** The client left (room.leave()). */
  Consented: 0,
  /** The server removed it (client.leave() on the server, without a code of its own). */
  Kicked: 1,
  /** The room was disposed (room.disconnect(), or the server shut down). */
  Disposed: 2,
  /** Its session ended and the room did not hold its seat. */
  Dropped: 3,
  /** Its session ended and it did not come back within allowReconnection's time. */
  ReconnectionExpired: 4,
  /** The client's session ended and it could not rejoin (client side only). */
  SessionLost: 5,
  /** The same seat was taken over by another session with its reconnection token. */
  Replaced: 6,
} as const;

/** Caps of the strings in room frames, bytes of UTF-8. */
export const ROOM_LIMITS = {
  name: 64,
  roomId: 64,
  sessionId: 64,
  token: 160,
  text: 1024,
  url: 512,
} as const;

export type RoomFrame =
  // client → server
  | { op: 'join'; request: number; method: JoinMethod; target: string; reflection: boolean; options: Uint8Array }
  | { op: 'leave'; room: number }
  | { op: 'send'; room: number; seq: number; type: string; raw: boolean; body: Uint8Array }
  | { op: 'resync'; room: number }
  | { op: 'list'; request: number; name: string; criteria: Uint8Array }
  | { op: 'input'; room: number; body: Uint8Array }
  // server → client
  | {
      op: 'joined';
      request: number;
      room: number;
      roomId: string;
      roomName: string;
      sessionId: string;
      reconnectionToken: string;
      lastSeq: number;
      /** The room has a state: its full state follows. */
      hasState: boolean;
      reflection: Uint8Array | undefined;
    }
  | { op: 'join-error'; request: number; code: number; message: string }
  | { op: 'state'; room: number; patch: number; body: Uint8Array }
  | { op: 'patch'; room: number; patch: number; body: Uint8Array }
  | { op: 'unreliable-patch'; room: number; seq: number; basis: number; body: Uint8Array }
  | { op: 'message'; room: number; type: string; raw: boolean; body: Uint8Array }
  | { op: 'left'; room: number; code: number; text: string }
  | { op: 'rooms'; request: number; body: Uint8Array }
  | { op: 'digest'; room: number; patch: number; digest: number }
  /** The room is in another server process: join it there, at `url`, with `method` and `target`. */
  | { op: 'redirect'; request: number; method: RedirectMethod; target: string; url: string };

/** True when `message` (a protocol message's bytes) is a room frame rather than a plain SDK message. */
export function isRoomFrame(message: Uint8Array): boolean {
  return message.length > 0 && (message[0]! & ROOM_FLAG) !== 0;
}

// ---- encoding -----------------------------------------------------------------------------------

type Field = { varint: number } | { str: string; max: number } | { type: string } | { u8: number } | { bytes: Uint8Array };

/** One allocation of the exact size: header, then fields in order. */
function frame(flags: number, room: number, op: number, fields: Field[]): Uint8Array {
  const parts: (number | Uint8Array)[] = [];
  let size = 1 + varintSize(room) + 1;
  for (const f of fields) {
    if ('varint' in f) {
      size += varintSize(f.varint);
      parts.push(f.varint);
    } else if ('str' in f) {
      const b = encodeText(f.str, f.max);
      if (b.length !== encodeText(f.str, f.max + 4).length)
        throw new RangeError(`string over ${f.max} bytes: ${JSON.stringify(f.str.slice(0, 40))}`);
      size += varintSize(b.length) + b.length;
      parts.push(b.length, b);
    } else if ('type' in f) {
      const b = encodeText(f.type, 255);
      if (b.length === 0 || b.length !== encodeText(f.type, 1024).length) {
        throw new RangeError(`message type must be 1–255 bytes of UTF-8, got ${JSON.stringify(f.type.slice(0, 40))}`);
      }
      size += 1 + b.length;
      parts.push(-1 - b.length, b); // a negative number: a u8 length
    } else if ('u8' in f) {
      size += 1;
      parts.push(-1 - f.u8);
    } else {
      size += f.bytes.length;
      parts.push(f.bytes);
    }
  }
  const out = new Uint8Array(size);
  out[0] = flags;
  let o = writeVarint(out, 1, room);
  out[o++] = op;
  for (const p of parts) {
    if (typeof p !== 'number') {
      out.set(p, o);
      o += p.length;
    } else if (p < 0) out[o++] = -1 - p;
    else o = writeVarint(out, o, p);
  }
  return out;
}

function targetCap(method: JoinMethod): number {
  return method === 'reconnect' || method === 'seat' ? ROOM_LIMITS.token : ROOM_LIMITS.roomId;
}

function needRoom(room: number): number {
  if (!Number.isInteger(room) || room < 1 || room > 0xffffffff) throw new RangeError(`room handle must be 1..2^32-1, got ${room}`);
  return room;
}

/** The bytes of a room frame. Throws RangeError on a value that does not fit its field. */
export function encodeRoomFrame(f: RoomFrame): Uint8Array {
  const F = ROOM_FLAG;
  switch (f.op) {
    case 'join':
      return frame(F, 0, RoomOp.Join, [
        { varint: f.request },
        { u8: JOIN_METHODS.indexOf(f.method) },
        { str: f.target, max: targetCap(f.method) },
        { u8: f.reflection ? 1 : 0 },
        { bytes: f.options },
      ]);
    case 'leave':
      return frame(F, needRoom(f.room), RoomOp.Leave, []);
    case 'send':
      return frame(F | (f.raw ? RAW_FLAG : 0), needRoom(f.room), RoomOp.Send, [{ varint: f.seq }, { type: f.type }, { bytes: f.body }]);
    case 'resync':
      return frame(F, needRoom(f.room), RoomOp.Resync, []);
    case 'list':
      return frame(F, 0, RoomOp.List, [{ varint: f.request }, { str: f.name, max: ROOM_LIMITS.name }, { bytes: f.criteria }]);
    case 'input':
      return frame(F, needRoom(f.room), RoomOp.Input, [{ bytes: f.body }]);
    case 'joined':
      return frame(F, 0, RoomOp.Joined, [
        { varint: f.request },
        { varint: needRoom(f.room) },
        { str: f.roomId, max: ROOM_LIMITS.roomId },
        { str: f.roomName, max: ROOM_LIMITS.name },
        { str: f.sessionId, max: ROOM_LIMITS.sessionId },
        { str: f.reconnectionToken, max: ROOM_LIMITS.token },
        { varint: f.lastSeq },
        { u8: (f.reflection ? 1 : 0) | (f.hasState ? 2 : 0) },
        { bytes: f.reflection ?? new Uint8Array(0) },
      ]);
    case 'join-error':
      return frame(F, 0, RoomOp.JoinError, [{ varint: f.request }, { u8: f.code }, { str: f.message, max: ROOM_LIMITS.text }]);
    case 'state':
      return frame(F, needRoom(f.room), RoomOp.State, [{ varint: f.patch }, { bytes: f.body }]);
    case 'patch':
      return frame(F, needRoom(f.room), RoomOp.Patch, [{ varint: f.patch }, { bytes: f.body }]);
    case 'unreliable-patch':
      return frame(F, needRoom(f.room), RoomOp.UnreliablePatch, [{ varint: f.seq }, { varint: f.basis }, { bytes: f.body }]);
    case 'message':
      return frame(F | (f.raw ? RAW_FLAG : 0), needRoom(f.room), RoomOp.Message, [{ type: f.type }, { bytes: f.body }]);
    case 'left':
      return frame(F, needRoom(f.room), RoomOp.Left, [{ varint: f.code }, { str: f.text, max: ROOM_LIMITS.text }]);
    case 'rooms':
      return frame(F, 0, RoomOp.Rooms, [{ varint: f.request }, { bytes: f.body }]);
    case 'digest': {
      const d = new Uint8Array(4);
      new DataView(d.buffer).setUint32(0, f.digest >>> 0);
      return frame(F, needRoom(f.room), RoomOp.Digest, [{ varint: f.patch }, { bytes: d }]);
    }
    case 'redirect':
      if (!HTTP_URL.test(f.url)) throw new RangeError(`a redirect goes to an http(s) URL, got ${JSON.stringify(f.url.slice(0, 40))}`);
      return frame(F, 0, RoomOp.Redirect, [
        { varint: f.request },
        { u8: JOIN_METHODS.indexOf(f.method) },
        { str: f.target, max: ROOM_LIMITS.token },
        { str: f.url, max: ROOM_LIMITS.url },
      ]);
  }
}

const HTTP_URL = /^https?:\/\/[^\s]+$/;

// ---- decoding -----------------------------------------------------------------------------------

function str(r: ByteReader, max: number, what: string): string {
  const n = readVarint(r, `${what} length`);
  if (n > max) throw new DecodeError(`${what}: ${n} bytes, over ${max}`);
  return decodeText(r.bytesView(n, what));
}

function type(r: ByteReader): string {
  const n = r.u8('message type length');
  if (n === 0) throw new DecodeError('empty message type');
  return decodeText(r.bytesView(n, 'message type'));
}

function flag(r: ByteReader, what: string): boolean {
  const b = r.u8(what);
  if (b > 1) throw new DecodeError(`${what}: ${b}, not 0 or 1`);
  return b === 1;
}

function rest(r: ByteReader): Uint8Array {
  return r.bytesView(r.remaining, 'body');
}

/**
 * Decodes a room frame (bodies are views into `bytes`). Throws DecodeError when the bytes are no room
 * frame of the direction asked for: a server decodes client frames (`from: 'client'`) and vice versa.
 */
export function decodeRoomFrame(bytes: Uint8Array, from: 'client' | 'server'): RoomFrame {
  const r = new ByteReader(bytes);
  const flags = r.u8('room frame flags');
  if ((flags & ROOM_FLAG) === 0) throw new DecodeError('not a room frame');
  if (flags & ~(ROOM_FLAG | RAW_FLAG)) throw new DecodeError('reserved room frame flags set');
  const raw = (flags & RAW_FLAG) !== 0;
  const room = readVarint(r, 'room handle');
  const op = r.u8('room op');
  const lobby =
    op === RoomOp.Join ||
    op === RoomOp.List ||
    op === RoomOp.Joined ||
    op === RoomOp.JoinError ||
    op === RoomOp.Rooms ||
    op === RoomOp.Redirect;
  if (lobby !== (room === 0))
    throw new DecodeError(room === 0 ? `room op 0x${op.toString(16)} needs a room` : `room op 0x${op.toString(16)} takes room 0`);
  if (raw && op !== RoomOp.Send && op !== RoomOp.Message) throw new DecodeError('raw flag on a frame with no message');
  if (op < 0x40 !== (from === 'client')) throw new DecodeError(`room op 0x${op.toString(16)} is not sent by the ${from}`);
  switch (op) {
    case RoomOp.Join: {
      const request = readVarint(r, 'request id');
      const m = r.u8('join method');
      const method = JOIN_METHODS[m];
      if (method === undefined) throw new DecodeError(`unknown join method ${m}`);
      const target = str(r, targetCap(method), 'join target');
      return { op: 'join', request, method, target, reflection: flag(r, 'reflection flag'), options: rest(r) };
    }
    case RoomOp.Leave:
      return { op: 'leave', room };
    case RoomOp.Send:
      return { op: 'send', room, seq: readVarint(r, 'send seq'), type: type(r), raw, body: rest(r) };
    case RoomOp.Resync:
      return { op: 'resync', room };
    case RoomOp.List:
      return { op: 'list', request: readVarint(r, 'request id'), name: str(r, ROOM_LIMITS.name, 'room name'), criteria: rest(r) };
    case RoomOp.Input:
      return { op: 'input', room, body: rest(r) };
    case RoomOp.Joined: {
      const request = readVarint(r, 'request id');
      const handle = readVarint(r, 'room handle');
      if (handle === 0) throw new DecodeError('joined room handle 0');
      const roomId = str(r, ROOM_LIMITS.roomId, 'room id');
      const roomName = str(r, ROOM_LIMITS.name, 'room name');
      const sessionId = str(r, ROOM_LIMITS.sessionId, 'session id');
      const reconnectionToken = str(r, ROOM_LIMITS.token, 'reconnection token');
      const lastSeq = readVarint(r, 'last seq');
      const flags = r.u8('joined flags');
      if (flags & ~3) throw new DecodeError('reserved joined flags set');
      const hasReflection = (flags & 1) !== 0;
      const body = rest(r);
      if (!hasReflection && body.length > 0) throw new DecodeError('bytes after a joined frame without reflection');
      const hasState = (flags & 2) !== 0;
      return {
        op: 'joined',
        request,
        room: handle,
        roomId,
        roomName,
        sessionId,
        reconnectionToken,
        lastSeq,
        hasState,
        reflection: hasReflection ? body : undefined,
      };
    }
    case RoomOp.JoinError:
      return {
        op: 'join-error',
        request: readVarint(r, 'request id'),
        code: r.u8('join error code'),
        message: str(r, ROOM_LIMITS.text, 'join error'),
      };
    case RoomOp.State:
      return { op: 'state', room, patch: readVarint(r, 'patch number'), body: rest(r) };
    case RoomOp.Patch:
      return { op: 'patch', room, patch: readVarint(r, 'patch number'), body: rest(r) };
    case RoomOp.UnreliablePatch:
      return { op: 'unreliable-patch', room, seq: readVarint(r, 'unreliable seq'), basis: readVarint(r, 'basis patch'), body: rest(r) };
    case RoomOp.Message:
      return { op: 'message', room, type: type(r), raw, body: rest(r) };
    case RoomOp.Left:
      return { op: 'left', room, code: readVarint(r, 'leave code'), text: str(r, ROOM_LIMITS.text, 'leave text') };
    case RoomOp.Rooms:
      return { op: 'rooms', request: readVarint(r, 'request id'), body: rest(r) };
    case RoomOp.Digest: {
      const patch = readVarint(r, 'patch number');
      const digest = r.u32('digest');
      if (r.remaining > 0) throw new DecodeError('bytes after a digest');
      return { op: 'digest', room, patch, digest };
    }
    case RoomOp.Redirect: {
      const request = readVarint(r, 'request id');
      const m = r.u8('redirect method');
      const method = JOIN_METHODS[m];
      if (method !== 'seat' && method !== 'reconnect') throw new DecodeError(`redirect method ${m} is not seat or reconnect`);
      const target = str(r, ROOM_LIMITS.token, 'redirect target');
      const url = str(r, ROOM_LIMITS.url, 'redirect url');
      if (!HTTP_URL.test(url)) throw new DecodeError('redirect url is not http(s)');
      if (r.remaining > 0) throw new DecodeError('bytes after a redirect');
      return { op: 'redirect', request, method, target, url };
    }
    default:
      throw new DecodeError(`unknown room op 0x${op.toString(16)}`);
  }
}
