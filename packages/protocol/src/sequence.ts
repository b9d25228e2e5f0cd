/**
 * 16-bit sequence arithmetic (RFC 1982 serial numbers).
 *
 * Packet sequence numbers and message ids travel as u16 and wrap from 65535 to 0. Everything above
 * this module compares them with these functions, or unwraps them to plain integers with `unwrap`,
 * so the wrap is invisible to the rest of the protocol.
 */

export const SEQUENCE_BITS = 16;
export const SEQUENCE_MODULO = 0x10000;
export const SEQUENCE_MASK = 0xffff;
/** Half the sequence space: two numbers this far apart have no defined order (RFC 1982 §3.2). */
export const SEQUENCE_HALF = 0x8000;

/** `a + n` modulo 2^16. */
export function seqAdd(a: number, n: number): number {
  return (a + n) & SEQUENCE_MASK;
}

/**
 * Signed distance `a - b` in [-32768, 32767]: positive when `a` is newer than `b`.
 * At exactly half the space apart (32768) RFC 1982 leaves the order undefined; we return -32768, so each
 * of the two looks older than the other. The protocol never compares numbers that far apart.
 */
export function seqDiff(a: number, b: number): number {
  const d = (a - b) & SEQUENCE_MASK;
  return d >= SEQUENCE_HALF ? d - SEQUENCE_MODULO : d;
}

/** True when `a` is older than `b` (serial-number order). */
export function seqLess(a: number, b: number): boolean {
  return seqDiff(a, b) < 0;
}

/** True when `a` is newer than `b` (serial-number order). */
export function seqGreater(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/**
 * The integer congruent to `seq` modulo 2^16 that lies closest to `reference` (an unwrapped integer,
 * possibly negative). This is how a 16-bit number on the wire becomes an ever-increasing number inside.
 */
export function unwrap(seq: number, reference: number): number {
  return reference + seqDiff(seq & SEQUENCE_MASK, reference & SEQUENCE_MASK);
}

/** The 16-bit wire form of an unwrapped sequence number. */
export function wrap(n: number): number {
  return n & SEQUENCE_MASK;
}
