/**
 * One direction's packet protection: AES-256-GCM (node:crypto) with a 32-byte key from the connect token, the
 * 12-byte nonce 0x00000000 | pn u64, and the frame's associated data (frame.ts). AES-GCM rather than
 * ChaCha20-Poly1305 because on these machines (AES-NI) it is the faster of the two in node:crypto; both are in
 * netcode.io's and QUIC's lists. Cost per packet: docs/security.md and `npm run bench`.
 */

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { UDP_TAG_SIZE, writePn } from './frame.js';

export const UDP_KEY_SIZE = 32;
const ALGORITHM = 'aes-256-gcm';

/** The 12-byte nonce of packet number `pn`: four zero bytes, then the pn as in the frame. */
function nonceFor(pn: number): Buffer {
  const nonce = Buffer.alloc(12);
  writePn(nonce, 4, pn);
  return nonce;
}

export class PacketKey {
  private readonly key: Buffer;

  constructor(key: Uint8Array) {
    if (key.length !== UDP_KEY_SIZE) throw new RangeError(`udp: a packet key is ${UDP_KEY_SIZE} bytes, got ${key.length}`);
    this.key = Buffer.from(key);
  }

  /** Writes plaintext encrypted, then its tag, into `out` at `offset` (needs plaintext.length + 16 bytes there). */
  sealInto(out: Uint8Array, offset: number, pn: number, aad: Uint8Array, plaintext: Uint8Array): void {
    const cipher = createCipheriv(ALGORITHM, this.key, nonceFor(pn), { authTagLength: UDP_TAG_SIZE });
    cipher.setAAD(aad);
    const body = cipher.update(plaintext);
    cipher.final(); // GCM: no bytes at final
    out.set(body, offset);
    out.set(cipher.getAuthTag(), offset + body.length);
  }

  /** The plaintext of `sealed` (ciphertext | tag), or undefined if it is not authentic. */
  open(pn: number, aad: Uint8Array, sealed: Uint8Array): Uint8Array | undefined {
    if (sealed.length < UDP_TAG_SIZE) return undefined;
    const split = sealed.length - UDP_TAG_SIZE;
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, nonceFor(pn), { authTagLength: UDP_TAG_SIZE });
      decipher.setAAD(aad);
      decipher.setAuthTag(sealed.subarray(split));
      const plain = decipher.update(sealed.subarray(0, split));
      decipher.final(); // throws if the tag does not match
      return new Uint8Array(plain.buffer, plain.byteOffset, plain.length);
    } catch {
      return undefined;
    }
  }
}
