/**
 * Connect tokens (netcode.io's model): the keys of a UDP link, handed to the client over the HTTP(S) request it
 * already makes (POST /volley/udp/token), and sealed for the UDP server so it needs no shared state to accept it.
 *
 *   token = version u8 (= 1) | link id 8 B | expires u64 (ms since the epoch) | nonce 12 B |
 *           AES-256-GCM(tokenKey, nonce, aad = "volley-udp-token/1" | version | link id | expires)
 *             (client→server key 32 B | server→client key 32 B) | tag 16 B                         = 109 bytes
 *
 * The client gets the same two keys and the link id in the clear beside the token (the HTTP response is its
 * only secret channel: serve it over HTTPS). The UDP server opens the token with `tokenKey`, refuses it once
 * expired, and admits at most one link per token (its link id, remembered until it expires). Any process that
 * knows `tokenKey` can mint tokens, e.g. a separate web backend that authenticates players first.
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UDP_LINK_ID_SIZE, UDP_TAG_SIZE } from './frame.js';
import { UDP_KEY_SIZE } from './packet-key.js';

export const CONNECT_TOKEN_VERSION = 1;
const LABEL = Buffer.from('volley-udp-token/1', 'ascii');
const NONCE_SIZE = 12;
const CLEAR_SIZE = 1 + UDP_LINK_ID_SIZE + 8;
export const CONNECT_TOKEN_SIZE = CLEAR_SIZE + NONCE_SIZE + 2 * UDP_KEY_SIZE + UDP_TAG_SIZE;
export const TOKEN_KEY_SIZE = 32;

/** What a token grants: one link id and its two keys, until `expires`. */
export interface ConnectGrant {
  linkId: Uint8Array;
  clientKey: Uint8Array;
  serverKey: Uint8Array;
  /** ms since the epoch. */
  expires: number;
}

/** A minted token and the grant it carries (what the client receives). */
export interface ConnectToken extends ConnectGrant {
  token: Uint8Array;
}

function aad(clear: Uint8Array): Buffer {
  return Buffer.concat([LABEL, clear]);
}

function checkKey(tokenKey: Uint8Array): void {
  if (tokenKey.length !== TOKEN_KEY_SIZE) throw new RangeError(`udp: tokenKey must be ${TOKEN_KEY_SIZE} bytes, got ${tokenKey.length}`);
}

/** Mints a token for a fresh random link id and keys, valid until `expires` (ms since the epoch). */
export function mintConnectToken(tokenKey: Uint8Array, expires: number): ConnectToken {
  checkKey(tokenKey);
  if (!Number.isSafeInteger(expires) || expires < 0) throw new RangeError('udp: token expiry must be a safe integer of ms');
  const linkId = randomBytes(UDP_LINK_ID_SIZE);
  const keys = randomBytes(2 * UDP_KEY_SIZE);
  const nonce = randomBytes(NONCE_SIZE);
  const token = Buffer.alloc(CONNECT_TOKEN_SIZE);
  token[0] = CONNECT_TOKEN_VERSION;
  linkId.copy(token, 1);
  token.writeBigUInt64BE(BigInt(expires), 1 + UDP_LINK_ID_SIZE);
  nonce.copy(token, CLEAR_SIZE);
  const cipher = createCipheriv('aes-256-gcm', tokenKey, nonce, { authTagLength: UDP_TAG_SIZE });
  cipher.setAAD(aad(token.subarray(0, CLEAR_SIZE)));
  const sealed = Buffer.concat([cipher.update(keys), cipher.final(), cipher.getAuthTag()]);
  sealed.copy(token, CLEAR_SIZE + NONCE_SIZE);
  return {
    token,
    linkId,
    clientKey: keys.subarray(0, UDP_KEY_SIZE),
    serverKey: keys.subarray(UDP_KEY_SIZE),
    expires,
  };
}

/** The grant in `token` if it is authentic and not expired at `now`; undefined otherwise. Never throws on bad bytes. */
export function openConnectToken(tokenKey: Uint8Array, token: Uint8Array, now: number): ConnectGrant | undefined {
  if (token.length !== CONNECT_TOKEN_SIZE || token[0] !== CONNECT_TOKEN_VERSION) return undefined;
  const bytes = Buffer.from(token.buffer, token.byteOffset, token.length);
  const expires = Number(bytes.readBigUInt64BE(1 + UDP_LINK_ID_SIZE));
  if (!(expires > now)) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', tokenKey, bytes.subarray(CLEAR_SIZE, CLEAR_SIZE + NONCE_SIZE), {
      authTagLength: UDP_TAG_SIZE,
    });
    decipher.setAAD(aad(bytes.subarray(0, CLEAR_SIZE)));
    decipher.setAuthTag(bytes.subarray(CONNECT_TOKEN_SIZE - UDP_TAG_SIZE));
    const keys = Buffer.concat([
      decipher.update(bytes.subarray(CLEAR_SIZE + NONCE_SIZE, CONNECT_TOKEN_SIZE - UDP_TAG_SIZE)),
      decipher.final(),
    ]);
    return {
      linkId: Uint8Array.from(bytes.subarray(1, 1 + UDP_LINK_ID_SIZE)),
      clientKey: keys.subarray(0, UDP_KEY_SIZE),
      serverKey: keys.subarray(UDP_KEY_SIZE),
      expires,
    };
  } catch {
    return undefined;
  }
}

/** The JSON body of POST /volley/udp/token (binary fields in base64url). */
export interface ConnectTokenJson {
  token: string;
  linkId: string;
  clientKey: string;
  serverKey: string;
  /** ms from now until the token expires (the client's clock need not agree with the server's). */
  expiresIn: number;
}

export function connectTokenToJson(t: ConnectToken, now: number): ConnectTokenJson {
  const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
  return {
    token: b64(t.token),
    linkId: b64(t.linkId),
    clientKey: b64(t.clientKey),
    serverKey: b64(t.serverKey),
    expiresIn: Math.max(0, t.expires - now),
  };
}

/** A token as the client holds it: the grant without the server's clock, and how long it lives. */
export interface ReceivedConnectToken extends Omit<ConnectToken, 'expires'> {
  expiresIn: number;
}

/** Parses a token response; throws an Error saying what is wrong. */
export function connectTokenFromJson(json: unknown): ReceivedConnectToken {
  if (typeof json !== 'object' || json === null) throw new Error('udp: the token response is not a JSON object');
  const o = json as Record<string, unknown>;
  const bytes = (name: string, size: number): Uint8Array => {
    const v = o[name];
    const b = typeof v === 'string' ? Buffer.from(v, 'base64url') : undefined;
    if (!b || b.length !== size) throw new Error(`udp: the token response's ${name} is not ${size} bytes of base64url`);
    return new Uint8Array(b);
  };
  const expiresIn = o['expiresIn'];
  if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0) {
    throw new Error("udp: the token response's expiresIn is not a number of ms");
  }
  return {
    token: bytes('token', CONNECT_TOKEN_SIZE),
    linkId: bytes('linkId', UDP_LINK_ID_SIZE),
    clientKey: bytes('clientKey', UDP_KEY_SIZE),
    serverKey: bytes('serverKey', UDP_KEY_SIZE),
    expiresIn,
  };
}
