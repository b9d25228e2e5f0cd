/**
 * A digest of a synced state (FNV-1a, 32 bits) over a canonical walk, so a server and a client can tell,
 * cheaply, whether the client's copy of a room's state is the one it should have (room frame DIGEST,
 * docs/protocol.md §9). It catches what a decoder cannot notice by itself: a patch applied "successfully" to
 * a copy that had drifted (an encoder bug, a lost frame) — the client then resyncs.
 *
 * The walk reads @colyseus/schema instances structurally, without importing the library: a Schema's fields
 * in index order from its class's `Symbol.metadata` (`{ name, unreliable? }`), a map's entries in key order,
 * an array's items in order, primitives by value. `@unreliable` fields are left out (a client may lag on
 * them by design), as is any field `skip` names.
 */

type Metadata = Record<number, { name: string; unreliable?: boolean } | undefined>;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const f64Bytes = new Uint8Array(8);
const f64 = new DataView(f64Bytes.buffer);

class Hash {
  h = FNV_OFFSET;
  byte(b: number): void {
    this.h = Math.imul(this.h ^ (b & 0xff), FNV_PRIME);
  }
  u32(v: number): void {
    for (let i = 0; i < 4; i++) this.byte(v >>> (i * 8));
  }
  string(s: string): void {
    this.u32(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.byte(c);
      this.byte(c >>> 8);
    }
  }
  number(n: number): void {
    f64.setFloat64(0, Number.isNaN(n) ? NaN : n === 0 ? 0 : n, true); // little-endian; one NaN, and -0 as 0
    for (let i = 0; i < 8; i++) this.byte(f64Bytes[i]!);
  }
}

/** TC39 decorator metadata's key (@colyseus/schema installs `Symbol.metadata` where the runtime has none). */
export function metadataKey(): symbol {
  return (Symbol as { metadata?: symbol }).metadata ?? Symbol.for('Symbol.metadata');
}

function metadataOf(value: object): Metadata | undefined {
  const ctor = (value as { constructor?: Record<symbol, unknown> }).constructor;
  const md = ctor?.[metadataKey()];
  return md && typeof md === 'object' ? (md as Metadata) : undefined;
}

function isMapLike(v: object): v is { keys(): Iterable<unknown>; get(k: unknown): unknown } {
  return typeof (v as { get?: unknown }).get === 'function' && typeof (v as { keys?: unknown }).keys === 'function';
}

/**
 * The digest of `root`. `skip(owner, index)` may leave out more fields (e.g. a client that built its classes
 * from the server's Reflection, which does not carry `@unreliable`).
 */
export function stateDigest(root: unknown, skip?: (owner: object, index: number) => boolean): number {
  const h = new Hash();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 64) throw new RangeError('state digest: nesting deeper than 64');
    if (v === undefined || v === null) return h.byte(0);
    switch (typeof v) {
      case 'boolean':
        h.byte(1);
        return h.byte(v ? 1 : 0);
      case 'number':
        h.byte(2);
        return h.number(v);
      case 'bigint':
        h.byte(3);
        return h.string(v.toString());
      case 'string':
        h.byte(4);
        return h.string(v);
      case 'object':
        break;
      default:
        return h.byte(9);
    }
    const md = metadataOf(v);
    if (md && !isMapLike(v) && typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
      h.byte(5);
      const indexes = Object.keys(md)
        .map(Number)
        .filter((i) => Number.isInteger(i))
        .sort((a, b) => a - b);
      for (const i of indexes) {
        const field = md[i];
        if (!field || field.unreliable || skip?.(v, i)) continue;
        h.u32(i);
        walk((v as Record<string, unknown>)[field.name], depth + 1);
      }
      return;
    }
    if (isMapLike(v)) {
      h.byte(6);
      const keys = [...v.keys()].map(String).sort();
      h.u32(keys.length);
      for (const k of keys) {
        h.string(k);
        walk(v.get(k), depth + 1);
      }
      return;
    }
    if (typeof (v as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function') {
      h.byte(7);
      const items = [...(v as Iterable<unknown>)];
      h.u32(items.length);
      for (const item of items) walk(item, depth + 1);
      return;
    }
    h.byte(8);
    const keys = Object.keys(v).sort();
    h.u32(keys.length);
    for (const k of keys) {
      h.string(k);
      walk((v as Record<string, unknown>)[k], depth + 1);
    }
  };
  walk(root, 0);
  return h.h >>> 0;
}
