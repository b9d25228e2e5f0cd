/**
 * Structured fuzzing: a wire structure is a list of named fields (integers of a width, float64s, byte runs)
 * built from a valid value, so that mutations hit what a decoder trusts — a length, a count, a type byte, a
 * flag — rather than random bytes that fail at the first check. The builders for each format are in
 * formats.ts; this file has the field model, the mutations and the arbitrary that pairs them.
 *
 * Field mutations: set an integer to an extreme (0, 1, max, max − 1, ±1, top bit, any value), flip one bit,
 * set a float to NaN / ±Infinity / −0 / huge, drop / duplicate / swap fields, grow or shrink a byte run.
 * Byte mutations after encoding: truncate, append garbage, overwrite one byte.
 */

import fc from 'fast-check';

export type Field =
  | { kind: 'uint'; name: string; width: 1 | 2 | 4; value: number }
  | { kind: 'f64'; name: string; value: number }
  | { kind: 'bytes'; name: string; value: Uint8Array };

export const u8 = (name: string, value: number): Field => ({ kind: 'uint', name, width: 1, value: value & 0xff });
export const u16 = (name: string, value: number): Field => ({ kind: 'uint', name, width: 2, value: value & 0xffff });
export const u32 = (name: string, value: number): Field => ({ kind: 'uint', name, width: 4, value: value >>> 0 });
export const f64 = (name: string, value: number): Field => ({ kind: 'f64', name, value });
export const bytes = (name: string, value: Uint8Array): Field => ({ kind: 'bytes', name, value });

export function fieldsSize(fields: readonly Field[]): number {
  return fields.reduce((n, f) => n + (f.kind === 'uint' ? f.width : f.kind === 'f64' ? 8 : f.value.length), 0);
}

/** Big-endian, like every Volley wire format. */
export function encodeFields(fields: readonly Field[]): Uint8Array {
  const out = new Uint8Array(fieldsSize(fields));
  const view = new DataView(out.buffer);
  let o = 0;
  for (const f of fields) {
    if (f.kind === 'uint') {
      if (f.width === 1) view.setUint8(o, f.value);
      else if (f.width === 2) view.setUint16(o, f.value);
      else view.setUint32(o, f.value);
      o += f.width;
    } else if (f.kind === 'f64') {
      view.setFloat64(o, f.value);
      o += 8;
    } else {
      out.set(f.value, o);
      o += f.value.length;
    }
  }
  return out;
}

const EXTREMES = ['zero', 'one', 'max', 'max-1', 'inc', 'dec', 'top-bit', 'any'] as const;
const SPECIAL_FLOATS = [Number.NaN, Infinity, -Infinity, -0, 1e308, -1e308, 2 ** 53, 5e-324];

export type Mutation =
  | { op: 'set'; field: number; to: (typeof EXTREMES)[number]; any: number }
  | { op: 'flip'; field: number; bit: number }
  | { op: 'float'; field: number; special: number }
  | { op: 'drop'; field: number }
  | { op: 'dup'; field: number }
  | { op: 'swap'; field: number; other: number }
  | { op: 'resize'; field: number; by: number; fill: number }
  | { op: 'truncate'; cut: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'byte'; at: number; value: number };

const index = fc.nat({ max: 1 << 16 });

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant('set' as const), field: index, to: fc.constantFrom(...EXTREMES), any: fc.nat() }), weight: 6 },
  { arbitrary: fc.record({ op: fc.constant('flip' as const), field: index, bit: fc.nat({ max: 31 }) }), weight: 4 },
  {
    arbitrary: fc.record({ op: fc.constant('float' as const), field: index, special: fc.nat({ max: SPECIAL_FLOATS.length - 1 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('drop' as const), field: index }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('dup' as const), field: index }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('swap' as const), field: index, other: index }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('resize' as const),
      field: index,
      by: fc.integer({ min: -64, max: 300 }),
      fill: fc.nat({ max: 255 }),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('truncate' as const), cut: fc.integer({ min: 1, max: 64 }) }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }), weight: 2 },
  { arbitrary: fc.record({ op: fc.constant('byte' as const), at: index, value: fc.nat({ max: 255 }) }), weight: 2 },
);

function setUint(width: 1 | 2 | 4, v: number, to: (typeof EXTREMES)[number], any: number): number {
  const max = width === 4 ? 0xffffffff : (1 << (8 * width)) - 1;
  switch (to) {
    case 'zero':
      return 0;
    case 'one':
      return 1;
    case 'max':
      return max;
    case 'max-1':
      return max - 1;
    case 'inc':
      return v === max ? 0 : v + 1;
    case 'dec':
      return v === 0 ? max : v - 1;
    case 'top-bit':
      return (v | (width === 4 ? 0x80000000 : 1 << (8 * width - 1))) >>> 0;
    case 'any':
      return width === 4 ? any >>> 0 : any % (max + 1);
  }
}

/** Applies the mutations in order: field ones on a copy of the fields, byte ones on the encoding. */
export function mutate(fields: readonly Field[], mutations: readonly Mutation[]): Uint8Array {
  const fs = fields.map((f) => (f.kind === 'bytes' ? { ...f, value: f.value.slice() } : { ...f }));
  let out: Uint8Array | undefined;
  const encoded = (): Uint8Array => (out ??= encodeFields(fs));
  for (const m of mutations) {
    if (m.op === 'truncate' || m.op === 'append' || m.op === 'byte') {
      const b = encoded();
      if (m.op === 'truncate') out = b.subarray(0, Math.max(0, b.length - m.cut));
      else if (m.op === 'append') {
        out = new Uint8Array(b.length + m.bytes.length);
        out.set(b);
        out.set(m.bytes, b.length);
      } else if (b.length > 0) {
        out = b.slice();
        out[m.at % b.length] = m.value;
      }
      continue;
    }
    if (out !== undefined || fs.length === 0) continue; // field edits only before any byte edit
    const i = m.field % fs.length;
    const f = fs[i]!;
    switch (m.op) {
      case 'set':
        if (f.kind === 'uint') f.value = setUint(f.width, f.value, m.to, m.any);
        else if (f.kind === 'bytes') f.value = m.to === 'zero' ? new Uint8Array(0) : f.value.map(() => m.any & 0xff);
        else f.value = m.to === 'zero' ? 0 : m.any * (m.to === 'dec' ? -1 : 1);
        break;
      case 'flip':
        if (f.kind === 'uint') f.value = (f.value ^ (1 << (m.bit % (8 * f.width)))) >>> 0;
        else if (f.kind === 'bytes' && f.value.length > 0) f.value[(m.bit >>> 3) % f.value.length]! ^= 1 << (m.bit & 7);
        else if (f.kind === 'f64') f.value = -f.value;
        break;
      case 'float':
        if (f.kind === 'f64') f.value = SPECIAL_FLOATS[m.special]!;
        else if (f.kind === 'uint') f.value = setUint(f.width, f.value, 'max', 0);
        break;
      case 'drop':
        fs.splice(i, 1);
        break;
      case 'dup':
        fs.splice(i, 0, f.kind === 'bytes' ? { ...f, value: f.value.slice() } : { ...f });
        break;
      case 'swap': {
        const j = m.other % fs.length;
        [fs[i], fs[j]] = [fs[j]!, f];
        break;
      }
      case 'resize':
        if (f.kind === 'bytes') {
          const n = Math.max(0, f.value.length + m.by);
          const v = new Uint8Array(n).fill(m.fill);
          v.set(f.value.subarray(0, n));
          f.value = v;
        }
        break;
    }
  }
  return encoded();
}

/** A structure and what was done to it: the input a property gets. */
export interface Fuzzed<T> {
  /** The valid value the structure was built from. */
  value: T;
  fields: Field[];
  mutations: Mutation[];
  /** The bytes fed to the decoder. */
  bytes: Uint8Array;
  /** False when no mutation was applied: the bytes are the value's valid encoding. */
  mutated: boolean;
}

/**
 * Pairs a valid value with up to `maxMutations` mutations of its fields (none a quarter of the time, so
 * the valid path is fuzzed too).
 */
export function fuzzed<T>(value: fc.Arbitrary<T>, toFields: (v: T) => Field[], maxMutations = 4): fc.Arbitrary<Fuzzed<T>> {
  const mutations = fc.oneof(
    { arbitrary: fc.constant<Mutation[]>([]), weight: 1 },
    { arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: maxMutations }), weight: 3 },
  );
  return fc.tuple(value, mutations).map(([v, ms]) => {
    const fields = toFields(v);
    return { value: v, fields, mutations: ms, bytes: mutate(fields, ms), mutated: ms.length > 0 };
  });
}

/** Runs `decode`; returns its value, or the DecodeError-like error it threw; any other throw escapes. */
export function decodesOr<E extends Error, T>(
  errorClass: abstract new (...args: never[]) => E,
  decode: () => T,
): { ok: true; value: T } | { ok: false; error: E } {
  try {
    return { ok: true, value: decode() };
  } catch (e) {
    if (e instanceof errorClass) return { ok: false, error: e };
    throw e;
  }
}
