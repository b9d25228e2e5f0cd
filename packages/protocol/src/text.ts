/**
 * UTF-8 for the short texts the protocol carries (reject and disconnect messages).
 * TextEncoder/TextDecoder exist in every browser and in Node; they are declared here because the
 * protocol package compiles without DOM or Node typings on purpose (no host API may creep in).
 */

declare class TextEncoder {
  encode(input: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input: Uint8Array): string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

/** UTF-8 bytes of `text`, cut to at most `maxBytes` without splitting a character. */
export function encodeText(text: string, maxBytes: number): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length <= maxBytes) return bytes;
  let end = Math.max(0, maxBytes);
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

/** Decodes UTF-8, replacing invalid sequences (never throws). */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
