/** Serial-number order (RFC 1982) of u32 sequence numbers: `a` is newer than `b` when it is ahead by less than 2^31. */
export function serialNewer(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
