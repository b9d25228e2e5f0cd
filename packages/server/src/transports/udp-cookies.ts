/**
 * The raw-UDP handshake's stateless cookies (return routability, as in SCTP, DTLS and QUIC's Retry): a HELLO is
 * answered with a cookie and nothing is remembered; a COOKIE-ECHO proves its sender receives at its address.
 *
 *   cookie = first 16 bytes of HMAC-SHA256(secret, "volley-udp-cookie/1" | source ip (UTF-8, as Node reports it) |
 *            0x00 | source port u16 | time bucket u32 | HELLO nonce 8 B),   bucket = floor(ms since epoch / 10 000)
 *
 * A cookie is accepted in its bucket and the next (10–20 s; both are always computed and compared in constant
 * time) and admits one link: once spent it is remembered until it could no longer be valid. The nonce makes each
 * HELLO's cookie its own, so a new client that reuses a port moments after another left never finds its cookie
 * spent (what bounds one address's links is the transport's per-source link rate and the endpoint's caps).
 */

import { createHmac, timingSafeEqual } from 'node:crypto';
import { UDP_COOKIE_BUCKET_MS, UDP_COOKIE_SIZE, UDP_NONCE_SIZE } from '@volley/udp';

const LABEL = Buffer.from('volley-udp-cookie/1', 'ascii');

/** The cookie for a HELLO's nonce from a source address in a time bucket (exported for tests and tools). */
export function udpCookie(secret: Uint8Array, address: string, port: number, bucket: number, nonce: Uint8Array): Buffer {
  if (nonce.length !== UDP_NONCE_SIZE) throw new RangeError(`udp: a HELLO nonce is ${UDP_NONCE_SIZE} bytes`);
  const tail = Buffer.alloc(6 + UDP_NONCE_SIZE);
  tail.writeUInt16BE(port & 0xffff, 0);
  tail.writeUInt32BE(bucket >>> 0, 2);
  tail.set(nonce, 6);
  return createHmac('sha256', secret)
    .update(LABEL)
    .update(Buffer.from(address, 'utf8'))
    .update(Buffer.from([0]))
    .update(tail)
    .digest()
    .subarray(0, UDP_COOKIE_SIZE);
}

export class UdpCookies {
  /** Cookies that admitted a link (hex → until when they would be valid). */
  private readonly spent = new Map<string, number>();

  constructor(
    private readonly secret: Uint8Array,
    private readonly clock: () => number,
  ) {}

  /** The cookie for a HELLO with `nonce` from `address`:`port`, now. */
  issue(nonce: Uint8Array, address: string, port: number): Buffer {
    return udpCookie(this.secret, address, port, this.bucket(), nonce);
  }

  /** Whether `cookie` is the one we gave `address`:`port` for `nonce` in this bucket or the last, and unspent. */
  check(cookie: Buffer, nonce: Uint8Array, address: string, port: number): 'ok' | 'bad' | 'spent' {
    const bucket = this.bucket();
    let ok = false;
    // Both buckets are always computed, so the time taken says nothing about which one matched.
    for (const b of [bucket, bucket - 1]) if (timingSafeEqual(cookie, udpCookie(this.secret, address, port, b, nonce))) ok = true;
    if (!ok) return 'bad';
    return (this.spent.get(cookie.toString('hex')) ?? -Infinity) > this.clock() ? 'spent' : 'ok';
  }

  /** `cookie` admitted a link: it admits no other while it could still be valid. */
  spend(cookie: Buffer): void {
    this.spent.set(cookie.toString('hex'), this.clock() + 2 * UDP_COOKIE_BUCKET_MS);
  }

  /** Forgets spent cookies that could no longer be valid. */
  sweep(): void {
    const now = this.clock();
    for (const [cookie, until] of this.spent) if (until <= now) this.spent.delete(cookie);
  }

  private bucket(): number {
    return Math.floor(this.clock() / UDP_COOKIE_BUCKET_MS);
  }
}
