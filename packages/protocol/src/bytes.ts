/**
 * Bounds-checked big-endian (network order) byte reading and writing.
 *
 * Every decoder in the protocol reads through `ByteReader`, which throws `DecodeError` on any read past
 * the end. The receive path catches it and counts the datagram as malformed: hostile input never escapes.
 */

/** Thrown by decoders on malformed input; caught by the connection's receive path. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export class ByteReader {
  private readonly view: DataView;
  offset: number;

  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.offset = offset;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  private need(n: number, what: string): void {
    if (this.offset + n > this.bytes.length) {
      throw new DecodeError(`truncated: ${what} needs ${n} byte(s) at offset ${this.offset}, ${this.remaining} left`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.bytes[this.offset++]!;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.offset);
    this.offset += 4;
    return v;
  }

  f64(what = 'f64'): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.offset);
    this.offset += 8;
    return v;
  }

  /** A view (not a copy) of the next `n` bytes. */
  bytesView(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
}

export class ByteWriter {
  private readonly view: DataView;
  offset = 0;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  static ofSize(n: number): ByteWriter {
    return new ByteWriter(new Uint8Array(n));
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  u8(v: number): this {
    this.bytes[this.offset++] = v;
    return this;
  }

  u16(v: number): this {
    this.view.setUint16(this.offset, v);
    this.offset += 2;
    return this;
  }

  u32(v: number): this {
    this.view.setUint32(this.offset, v);
    this.offset += 4;
    return this;
  }

  f64(v: number): this {
    this.view.setFloat64(this.offset, v);
    this.offset += 8;
    return this;
  }

  raw(b: Uint8Array): this {
    this.bytes.set(b, this.offset);
    this.offset += b.length;
    return this;
  }

  /** The bytes written so far (a view). */
  written(): Uint8Array {
    return this.bytes.subarray(0, this.offset);
  }
}
