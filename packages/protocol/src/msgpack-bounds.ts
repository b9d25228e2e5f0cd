/**
 * A bounds check for MessagePack from a peer, run before any decoder sees it: one pass over the bytes, no
 * allocation beyond a stack of at most `maxDepth` counters. MessagePack lets a 3-byte header declare 65 535
 * (array16) or 4 294 967 295 (array32) elements, and decoders allocate what is declared before reading it:
 * 10 000 `array16(65535)` headers in a 30 KB message made @msgpack/msgpack allocate gigabytes and abort the
 * process. Here every value takes at least one byte, so:
 *
 *  - an array may declare no more elements, and a map no more than half as many entries, as bytes remain;
 *  - a string, binary or extension may declare no more bytes than remain;
 *  - containers nest at most `maxDepth` deep (default 64);
 *  - 0xC1 (never used) and truncated values are malformed.
 *
 * What passes can be decoded in time and memory linear in its size. Throws DecodeError saying what is wrong.
 */

import { DecodeError } from './bytes.js';

export const DEFAULT_MAX_DEPTH = 64;

/** Checks that `bytes` holds one bounded MessagePack value (trailing bytes are the decoder's to refuse). */
export function checkMessagePack(bytes: Uint8Array, maxDepth = DEFAULT_MAX_DEPTH): void {
  const end = bytes.length;
  const stack: number[] = [1]; // values still expected at each open level
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (n > end - pos) throw new DecodeError(`MessagePack ${what} declares ${n} bytes, ${end - pos} left`);
  };
  const u = (size: 1 | 2 | 4): number => {
    need(size, 'length');
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + bytes[pos++]!;
    return v;
  };
  const open = (count: number, perItem: number, what: string): void => {
    if (count * perItem > end - pos) throw new DecodeError(`MessagePack ${what} of ${count} elements, only ${end - pos} bytes left`);
    if (count === 0) return;
    if (stack.length > maxDepth) throw new DecodeError(`MessagePack nested deeper than ${maxDepth}`);
    stack.push(count * perItem);
  };
  while (stack.length > 0) {
    const top = stack.length - 1;
    if (stack[top] === 0) {
      stack.pop();
      continue;
    }
    stack[top]!--;
    if (pos >= end) throw new DecodeError('MessagePack value truncated');
    const b = bytes[pos++]!;
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) continue; // fixints, nil, booleans
    if (b <= 0x8f) open(b & 0x0f, 2, 'map');
    else if (b <= 0x9f) open(b & 0x0f, 1, 'array');
    else if (b <= 0xbf) skip(b & 0x1f, 'string');
    else {
      switch (b) {
        case 0xc1:
          throw new DecodeError('MessagePack byte 0xc1 (never used)');
        case 0xc4:
        case 0xd9:
          skip(u(1), b === 0xc4 ? 'binary' : 'string');
          break;
        case 0xc5:
        case 0xda:
          skip(u(2), b === 0xc5 ? 'binary' : 'string');
          break;
        case 0xc6:
        case 0xdb:
          skip(u(4), b === 0xc6 ? 'binary' : 'string');
          break;
        case 0xc7:
          skip(u(1) + 1, 'extension');
          break;
        case 0xc8:
          skip(u(2) + 1, 'extension');
          break;
        case 0xc9:
          skip(u(4) + 1, 'extension');
          break;
        case 0xcc:
        case 0xd0:
          skip(1, 'number');
          break;
        case 0xcd:
        case 0xd1:
          skip(2, 'number');
          break;
        case 0xca:
        case 0xce:
        case 0xd2:
          skip(4, 'number');
          break;
        case 0xcb:
        case 0xcf:
        case 0xd3:
          skip(8, 'number');
          break;
        case 0xd4:
          skip(2, 'extension');
          break;
        case 0xd5:
          skip(3, 'extension');
          break;
        case 0xd6:
          skip(5, 'extension');
          break;
        case 0xd7:
          skip(9, 'extension');
          break;
        case 0xd8:
          skip(17, 'extension');
          break;
        case 0xdc:
          open(u(2), 1, 'array');
          break;
        case 0xdd:
          open(u(4), 1, 'array');
          break;
        case 0xde:
          open(u(2), 2, 'map');
          break;
        case 0xdf:
          open(u(4), 2, 'map');
          break;
      }
    }
  }

  function skip(n: number, what: string): void {
    need(n, what);
    pos += n;
  }
}
