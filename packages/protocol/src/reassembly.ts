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
  parts: (Uint8Array | undefined)[];
  startedAt: number;
}

export type FragmentVerdict = 'ok' | 'duplicate' | string;

export class Reassembly {
  private readonly partials = new Map<number, Partial>();
  /** Bytes held in partial messages. */
  bytes = 0;

  constructor(private readonly maxMessageSize: number) {}

  get size(): number {
    return this.partials.size;
  }

  /** Whether a fragment is acceptable, without storing it: 'ok', 'duplicate', or why it is malformed. */
  check(id: number, fragment: FragmentInfo, data: Uint8Array): FragmentVerdict {
    const maxCount = Math.ceil(this.maxMessageSize / MIN_FRAGMENT_PAYLOAD);
    if (fragment.count > maxCount) return `fragment count ${fragment.count} over ${maxCount} for maxMessageSize ${this.maxMessageSize}`;
    const last = fragment.index === fragment.count - 1;
    if (!last && data.length < MIN_FRAGMENT_PAYLOAD) return `fragment ${fragment.index} of ${data.length} bytes is too small`;
    if (data.length === 0) return 'empty fragment';
    const p = this.partials.get(id);
    if (!p) return data.length > this.maxMessageSize ? 'fragment larger than maxMessageSize' : 'ok';
    if (p.count !== fragment.count) return `fragment count changed from ${p.count} to ${fragment.count}`;
    if (p.parts[fragment.index]) return 'duplicate';
    if (p.bytes + data.length > this.maxMessageSize) return 'fragments add up past maxMessageSize';
    return 'ok';
  }

  /** Stores a fragment that passed `check`. Returns the whole message once complete. */
  add(id: number, fragment: FragmentInfo, data: Uint8Array, now: number): Uint8Array | undefined {
    let p = this.partials.get(id);
    if (!p) {
      p = { count: fragment.count, received: 0, bytes: 0, parts: new Array(fragment.count), startedAt: now };
      this.partials.set(id, p);
    }
    p.parts[fragment.index] = data.slice();
    p.received++;
    p.bytes += data.length;
    this.bytes += data.length;
    if (p.received < p.count) return undefined;
    this.partials.delete(id);
    this.bytes -= p.bytes;
    const out = new Uint8Array(p.bytes);
    let offset = 0;
    for (const part of p.parts) {
      out.set(part!, offset);
      offset += part!.length;
    }
    return out;
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

  /** Ids of partial messages, oldest first (insertion order). */
  ids(): number[] {
    return [...this.partials.keys()];
  }

  /** Drops partials started before `deadline`; returns their ids. */
  expire(deadline: number): number[] {
    const dropped: number[] = [];
    for (const [id, p] of this.partials) {
      if (p.startedAt < deadline) {
        this.partials.delete(id);
        this.bytes -= p.bytes;
        dropped.push(id);
      }
    }
    return dropped;
  }
}
