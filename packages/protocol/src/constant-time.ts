/** Comparing secrets (session tokens) in time that does not depend on where they differ. */

/** True when `a` and `b` hold the same bytes; every byte is looked at whatever the first difference. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
