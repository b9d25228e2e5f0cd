/**
 * A batch of datagrams in one body: repeated `u16 length (big-endian) | datagram`. Used by the HTTP
 * long-polling transport in both directions (docs/transports.md); pure, so browsers and Node share it.
 */

/** Encodes datagrams as repeated `u16 length (BE) | bytes`. */
export function encodeBatch(datagrams: readonly Uint8Array[], size?: number): Uint8Array<ArrayBuffer> {
  const total = size ?? datagrams.reduce((s, d) => s + 2 + d.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const d of datagrams) {
    out[o] = d.byteLength >>> 8;
    out[o + 1] = d.byteLength & 0xff;
    out.set(d, o + 2);
    o += 2 + d.byteLength;
  }
  return out;
}

/** Splits a batch; returns why when it is malformed (or holds a datagram over `maxDatagram`). */
export function parseBatch(body: Uint8Array, maxDatagram = 0xffff): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < body.byteLength) {
    if (o + 2 > body.byteLength) return `malformed batch: truncated length prefix at byte ${o}`;
    const len = (body[o]! << 8) | body[o + 1]!;
    if (o + 2 + len > body.byteLength) {
      return `malformed batch: datagram at byte ${o} claims ${len} bytes, only ${body.byteLength - o - 2} left`;
    }
    if (len > maxDatagram) return `datagram of ${len} bytes exceeds the ${maxDatagram}-byte limit`;
    out.push(body.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  return out;
}
