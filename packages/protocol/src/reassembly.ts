/**
 * Fragment reassembly for one channel: partial messages keyed by (unwrapped) message id.
 * Fragments may arrive in any order and more than once; a message completes when every index is present.
 * Hostile input is bounded: fragment counts and sizes are checked against the channel's maxMessageSize,
 * and the caller caps total bytes and the number of partial messages.
 */

import type { FragmentInfo } from './record.js';

/** Every fragment but the last carries at least this many bytes (the minimum MTU guarantees it). */
export const MIN_FRAGMENT_PAYLOAD = 128;

interface Partial {
  count: number;
  received: number;
  bytes: number;
  /** Sparse: memory follows the fragments received, not the count a peer claims. */
  parts: Map<number, Uint8Array>;
  startedAt: number;
}

/** Fragments of the packet being checked, so two records of one message in one packet are checked together. */
interface Staged {
  count: number;
  indices: Set<number>;
  bytes: number;
}

export type FragmentVerdict = 'ok' | 'duplicate' | string;

export class Reassembly {
  private readonly partials = new Map<number, Partial>();
  private readonly staged = new Map<number, Staged>();
  /** Bytes held in partial messages. */
  bytes = 0;

  constructor(private readonly maxMessageSize: number) {}

  /**
   * Starts checking a new packet: forget what the previous packet staged. Nothing to do for a channel the
   * packet did not touch (V8's Map.clear allocates a new table even when the map is empty).
   */
  beginPacket(): void {
    if (this.staged.size !== 0) this.staged.clear();
  }

  get size(): number {
    return this.partials.size;
  }

  /** Whether a fragment is acceptable, without storing it: 'ok', 'duplicate', or why it is malformed. */
  check(id: number, fragment: FragmentInfo, data: Uint8Array): FragmentVerdict {
    const maxCount = Math.min(0xffff, Math.ceil(this.maxMessageSize / MIN_FRAGMENT_PAYLOAD));
    if (fragment.count > maxCount) return `fragment count ${fragment.count} over ${maxCount} for maxMessageSize ${this.maxMessageSize}`;
    const last = fragment.index === fragment.count - 1;
    if (!last && data.length < MIN_FRAGMENT_PAYLOAD) return `fragment ${fragment.index} of ${data.length} bytes is too small`;
    if (data.length === 0) return 'empty fragment';
    const p = this.partials.get(id);
    if (p && p.count !== fragment.count) return `fragment count changed from ${p.count} to ${fragment.count}`;
    if (p?.parts.has(fragment.index)) return 'duplicate';
    const st = this.staged.get(id);
    if (st && st.count !== fragment.count) return `fragment count differs within one packet (${st.count}, ${fragment.count})`;
    if (st?.indices.has(fragment.index)) return 'fragment repeated within one packet';
    if ((p?.bytes ?? 0) + (st?.bytes ?? 0) + data.length > this.maxMessageSize) return 'fragments add up past maxMessageSize';
    return 'ok';
  }

  /** Records a fragment that passed `check` as part of the packet being checked. */
  stage(id: number, fragment: FragmentInfo, data: Uint8Array): void {
    let st = this.staged.get(id);
    if (!st) this.staged.set(id, (st = { count: fragment.count, indices: new Set(), bytes: 0 }));
    st.indices.add(fragment.index);
    st.bytes += data.length;
  }

  /** Stores a fragment that passed `check`. Returns the whole message once complete. */
  add(id: number, fragment: FragmentInfo, data: Uint8Array, now: number): Uint8Array | undefined {
    let p = this.partials.get(id);
    if (!p) {
      p = { count: fragment.count, received: 0, bytes: 0, parts: new Map(), startedAt: now };
      this.partials.set(id, p);
    }
    if (p.count !== fragment.count || p.parts.has(fragment.index) || fragment.index >= p.count) return undefined; // checked before; never reached
    p.parts.set(fragment.index, data.slice());
    p.received++;
    p.bytes += data.length;
    this.bytes += data.length;
    if (p.received < p.count) return undefined;
    this.partials.delete(id);
    this.bytes -= p.bytes;
    const out = new Uint8Array(p.bytes);
    let offset = 0;
    for (let i = 0; i < p.count; i++) {
      const part = p.parts.get(i)!;
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /** Whether this fragment of this message is already held. */
  hasFragment(id: number, index: number): boolean {
    return this.partials.get(id)?.parts.has(index) ?? false;
  }

  has(id: number): boolean {
    return this.partials.has(id);
  }

  delete(id: number): boolean {
    const p = this.partials.get(id);
    if (!p) return false;
    this.partials.delete(id);
    this.bytes -= p.bytes;
    return true;
  }

  /** Bytes held for one partial message (0 if none). */
  bytesOf(id: number): number {
    return this.partials.get(id)?.bytes ?? 0;
  }

  /** Ids of partial messages, oldest first (insertion order). */
  ids(): number[] {
    return [...this.partials.keys()];
  }

  /** When the oldest partial message started (Infinity: none). */
  oldestStart(): number {
    for (const p of this.partials.values()) return p.startedAt;
    return Infinity;
  }

  /** Drops partials started `timeout` ms or more before `now` (the same test as oldestStart() + timeout); returns their ids. */
  expire(now: number, timeout: number): number[] {
    const dropped: number[] = [];
    for (const [id, p] of this.partials) {
      if (p.startedAt + timeout <= now) {
        this.partials.delete(id);
        this.bytes -= p.bytes;
        dropped.push(id);
      }
    }
    return dropped;
  }
}
