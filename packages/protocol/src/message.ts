/**
 * The SDKs' message layer, one for server and client: a typed message — a type name and a value — inside
 * one protocol message. The value is MessagePack (@msgpack/msgpack), or raw bytes passed through untouched
 * when it is a Uint8Array (envelope.ts has the framing: flags, type, body).
 *
 * Bytes from a peer are checked before they are decoded (msgpack-bounds.ts): no container may declare more
 * elements than bytes remain, nesting is capped at `maxDepth`, so decoding costs time and memory linear in
 * the input, whatever a hostile peer sends.
 */

import { decode, encode } from '@msgpack/msgpack';
import { DecodeError } from './bytes.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import { checkMessagePack, DEFAULT_MAX_DEPTH } from './msgpack-bounds.js';

export interface Message {
  type: string;
  /** The decoded MessagePack value, or a Uint8Array (a copy) for a raw message. */
  data: unknown;
}

/** Encodes a message: a Uint8Array goes raw, anything else as MessagePack (undefined as nil). */
export function encodeMessage(type: string, data?: unknown): Uint8Array {
  const raw = data instanceof Uint8Array;
  return encodeEnvelope(type, raw ? data : encode(data ?? null), raw);
}

/** Decodes a message. Throws DecodeError when the bytes are no message (bad envelope, bad or unbounded MessagePack). */
export function decodeMessage(bytes: Uint8Array, maxDepth = DEFAULT_MAX_DEPTH): Message {
  const env = decodeEnvelope(bytes);
  if (env.raw) return { type: env.type, data: env.body.slice() };
  checkMessagePack(env.body, maxDepth);
  try {
    return { type: env.type, data: decode(env.body) };
  } catch (e) {
    throw new DecodeError(`message '${env.type}': bad MessagePack body: ${(e as Error).message}`);
  }
}

/** The auth payload of a CONNECT: any value as MessagePack (empty for undefined). */
export function encodeValue(value: unknown): Uint8Array {
  return value === undefined ? new Uint8Array(0) : encode(value);
}

/** Reads an auth payload (undefined when empty). Throws DecodeError on bad or unbounded MessagePack. */
export function decodeValue(bytes: Uint8Array, maxDepth = DEFAULT_MAX_DEPTH): unknown {
  if (bytes.length === 0) return undefined;
  checkMessagePack(bytes, maxDepth);
  try {
    return decode(bytes);
  } catch (e) {
    throw new DecodeError(`bad MessagePack: ${(e as Error).message}`);
  }
}
