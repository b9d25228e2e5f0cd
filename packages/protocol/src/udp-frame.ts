/**
 * The raw-UDP transport's framing (docs/transports.md "UDP"), shared by the server's and the client's UDP
 * transports. Every frame's first byte has bits 7–6 = `11`, the prefix the protocol reserves, so a bare
 * protocol packet is never a valid frame. Integers are big-endian.
 *
 *   HELLO        c→s  0xE1 | version u8 (= 1) | nonce 8 B | zero padding, 64 bytes in all (shorter: ignored)
 *   COOKIE       s→c  0xE2 | nonce 8 B (the HELLO's) | cookie 16 B                          = 25 bytes
 *   COOKIE-ECHO  c→s  0xE3 | cookie 16 B | link id 8 B | datagram (1..mtu bytes)         = 25 + datagram
 *   DATA         c→s  0xD0 | link id 8 B | datagram (1..mtu bytes)                        = 9 + datagram
 *   DATA         s→c  0xD0 | datagram                                                     = 1 + datagram
 */

export const UdpFrame = { Hello: 0xe1, Cookie: 0xe2, CookieEcho: 0xe3, Data: 0xd0 } as const;
export const UDP_FRAMING_VERSION = 1;
/** A HELLO is padded to this size; shorter ones are ignored, so the COOKIE reply is always smaller. */
export const UDP_HELLO_SIZE = 64;
export const UDP_NONCE_SIZE = 8;
export const UDP_COOKIE_SIZE = 16;
export const UDP_LINK_ID_SIZE = 8;
/** 0xE2 | nonce | cookie. */
export const UDP_COOKIE_FRAME_SIZE = 1 + UDP_NONCE_SIZE + UDP_COOKIE_SIZE;
/** 0xE3 | cookie | link id, before the datagram. */
export const UDP_ECHO_HEADER_SIZE = 1 + UDP_COOKIE_SIZE + UDP_LINK_ID_SIZE;
/** 0xD0 | link id, before the datagram (client → server). */
export const UDP_DATA_HEADER_SIZE = 1 + UDP_LINK_ID_SIZE;
/** A cookie is accepted during its time bucket and the next one. */
export const UDP_COOKIE_BUCKET_MS = 10_000;
