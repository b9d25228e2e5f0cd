/**
 * The raw-UDP transport's frames (docs/transports.md "UDP"), shared by the server's and the Node client's UDP
 * transports. Every frame's first byte has bits 7–6 = `11`, the prefix the protocol reserves, so a bare protocol
 * packet is never a valid frame. Integers are big-endian. Framing version 2.
 *
 *   HELLO        c→s  0xE1 | version u8 (= 2) | nonce 8 B | zero padding            = 64 bytes (shorter: ignored)
 *   COOKIE       s→c  0xE2 | nonce 8 B (the HELLO's) | cookie 16 B                   = 25 bytes
 *   COOKIE-ECHO  c→s  0xE3 | nonce 8 B (the HELLO's) | cookie 16 B | connect token 109 B | pn u64 | sealed datagram
 *   DATA         c→s  0xD0 | link id 8 B | pn u64 | sealed datagram
 *   DATA         s→c  0xD0 | pn u64 | sealed datagram
 *   CHALLENGE    s→c  0xD1 | pn u64 | sealed challenge (8 B)
 *   RESPONSE     c→s  0xD2 | link id 8 B | pn u64 | sealed challenge (8 B, the CHALLENGE's)
 *
 * "sealed x" is x encrypted with AES-256-GCM followed by its 16-byte tag (packet-key.ts). Each direction of a
 * link has its own key (from the connect token) and its own packet numbers `pn`, one more for every sealed
 * frame it sends (the client's start at 0, the server's at a random number below 2^52); the nonce is the pn,
 * the associated data is type u8 | link id 8 B | pn u64 (the link id is associated data also for frames that
 * do not carry it) and, for a COOKIE-ECHO, its nonce | cookie | token, so a frame cannot be moved to another
 * link, type, number, cookie or token. A receiver opens a frame only if its pn passes the replay window.
 */

export const UdpFrame = {
  Hello: 0xe1,
  Cookie: 0xe2,
  CookieEcho: 0xe3,
  Data: 0xd0,
  Challenge: 0xd1,
  Response: 0xd2,
} as const;
export type UdpFrameType = (typeof UdpFrame)[keyof typeof UdpFrame];

export const UDP_FRAMING_VERSION = 2;
/** A HELLO is padded to this size; shorter ones are ignored, so the COOKIE reply is always smaller. */
export const UDP_HELLO_SIZE = 64;
export const UDP_NONCE_SIZE = 8;
export const UDP_COOKIE_SIZE = 16;
export const UDP_LINK_ID_SIZE = 8;
export const UDP_PN_SIZE = 8;
/** The AEAD tag after every sealed payload. */
export const UDP_TAG_SIZE = 16;
/** A path challenge's payload. */
export const UDP_CHALLENGE_SIZE = 8;
/** 0xE2 | nonce | cookie. */
export const UDP_COOKIE_FRAME_SIZE = 1 + UDP_NONCE_SIZE + UDP_COOKIE_SIZE;
/** A cookie is accepted during its time bucket and the next one. */
export const UDP_COOKIE_BUCKET_MS = 10_000;
/** Bytes of associated data: type | link id | pn. */
export const UDP_AAD_SIZE = 1 + UDP_LINK_ID_SIZE + UDP_PN_SIZE;
/** 0xD0 | link id | pn before the sealed datagram (client → server). */
export const UDP_CLIENT_HEADER_SIZE = 1 + UDP_LINK_ID_SIZE + UDP_PN_SIZE;
/** 0xD0 | pn before the sealed datagram (server → client). */
export const UDP_SERVER_HEADER_SIZE = 1 + UDP_PN_SIZE;

/** Largest packet number: sealed frames stop (the link closes) before it, so a nonce is never used twice. */
export const UDP_MAX_PN = Number.MAX_SAFE_INTEGER;

export function writePn(out: Uint8Array, offset: number, pn: number): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint32(offset, Math.floor(pn / 0x1_0000_0000));
  view.setUint32(offset + 4, pn >>> 0);
}

/** The pn at `offset`, or -1 past UDP_MAX_PN. */
export function readPn(src: Uint8Array, offset: number): number {
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const hi = view.getUint32(offset);
  if (hi > 0x1f_ffff) return -1;
  return hi * 0x1_0000_0000 + view.getUint32(offset + 4);
}

/** The associated data of a sealed frame: type | link id | pn, then the COOKIE-ECHO's prefix (nonce | cookie | token). */
export function frameAad(type: UdpFrameType, linkId: Uint8Array, pn: number, prefix?: Uint8Array): Uint8Array {
  const aad = new Uint8Array(UDP_AAD_SIZE + (prefix?.length ?? 0));
  aad[0] = type;
  aad.set(linkId.subarray(0, UDP_LINK_ID_SIZE), 1);
  writePn(aad, 1 + UDP_LINK_ID_SIZE, pn);
  if (prefix) aad.set(prefix, UDP_AAD_SIZE);
  return aad;
}
