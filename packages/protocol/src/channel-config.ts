/**
 * Channel kinds and per-channel limits. A connection has 1–15 channels; both peers must configure the
 * same layout (kind and limits), which CONNECT carries so a mismatch is refused with a clear reason.
 */

import { ConfigError } from './errors.js';
import { MAX_CHANNELS } from './record.js';

export type ChannelKind = 'reliable-ordered' | 'reliable-unordered' | 'unreliable-sequenced' | 'unreliable';

export const CHANNEL_KINDS: readonly ChannelKind[] = ['reliable-ordered', 'reliable-unordered', 'unreliable-sequenced', 'unreliable'];

export interface ChannelOptions {
  kind: ChannelKind;
  /** Higher goes first when packets are filled. Default 0. Local only (may differ between peers). */
  priority?: number;
  /** Largest message accepted by send(), bytes. Default 256 KiB. */
  maxMessageSize?: number;
  /**
   * Cap on bytes held for the channel. Reliable: messages not yet acknowledged (counted from the oldest
   * unacknowledged one), over the cap send() throws 'backpressure'. Unreliable: messages waiting to be
   * sent, over the cap the oldest are dropped. Also the receiver's reassembly/reorder budget. Default 256 KiB (DEFAULT_MAX_QUEUED_BYTES), at least maxMessageSize.
   */
  maxQueuedBytes?: number;
  /** Reliable and sequenced channels: most messages in flight (ids ahead of the oldest unacknowledged). Default 1024. */
  window?: number;
  /**
   * Reliable channels: carry copies of small messages not yet acknowledged in the packets that follow, where
   * there is room, so a lost packet's message usually arrives with the next one instead of a round trip
   * later (docs/protocol.md §6, with its cost). Off by default. Local only (may differ between peers).
   */
  redundancy?: RedundancyOptions;
}

export interface RedundancyOptions {
  /** Copies of each message beyond the first, 1–4 (default 1). */
  copies?: number;
  /** Only messages up to this many bytes are copied (default 128). */
  maxMessageSize?: number;
}

export interface ChannelConfig {
  kind: ChannelKind;
  priority: number;
  maxMessageSize: number;
  maxQueuedBytes: number;
  window: number;
  /** Copies carried of each small message (0: off) and the largest message copied. */
  redundancy: { copies: number; maxMessageSize: number };
}

export const DEFAULT_CHANNELS: readonly ChannelOptions[] = [{ kind: 'reliable-ordered' }, { kind: 'unreliable' }];

/**
 * Default cap on a channel's queue each way (what it holds to send; what it receives out of order or in part),
 * at least the channel's maxMessageSize. It bounds the memory a peer can make a connection hold (docs/security.md).
 */
export const DEFAULT_MAX_QUEUED_BYTES = 256 * 1024;

/** Upper bound for maxMessageSize; the MTU may lower it (fragment counts are u16, see connection-options.ts). */
export const MAX_MESSAGE_SIZE_LIMIT = 64 * 1024 * 1024;

export function isReliable(kind: ChannelKind): boolean {
  return kind === 'reliable-ordered' || kind === 'reliable-unordered';
}

/** Whether whole messages on this kind carry a message id on the wire. */
export function carriesIds(kind: ChannelKind): boolean {
  return kind !== 'unreliable';
}

function positiveInt(name: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 1 || v > max) throw new ConfigError(`${name} must be an integer in 1..${max}, got ${v}`);
  return v;
}

export function resolveChannels(options: readonly ChannelOptions[] | undefined): ChannelConfig[] {
  const list = options ?? DEFAULT_CHANNELS;
  if (list.length < 1 || list.length > MAX_CHANNELS) {
    throw new ConfigError(`a connection has 1..${MAX_CHANNELS} channels, got ${list.length}`);
  }
  return list.map((c, i) => {
    if (!CHANNEL_KINDS.includes(c.kind)) throw new ConfigError(`channels[${i}].kind: unknown kind '${String(c.kind)}'`);
    const maxMessageSize = positiveInt(`channels[${i}].maxMessageSize`, c.maxMessageSize ?? 256 * 1024, MAX_MESSAGE_SIZE_LIMIT);
    const maxQueuedBytes = positiveInt(
      `channels[${i}].maxQueuedBytes`,
      c.maxQueuedBytes ?? Math.max(DEFAULT_MAX_QUEUED_BYTES, maxMessageSize),
      2 ** 31,
    );
    if (maxQueuedBytes < maxMessageSize) {
      throw new ConfigError(`channels[${i}].maxQueuedBytes (${maxQueuedBytes}) must be at least maxMessageSize (${maxMessageSize})`);
    }
    const priority = c.priority ?? 0;
    if (!Number.isFinite(priority)) throw new ConfigError(`channels[${i}].priority must be a finite number`);
    let redundancy = { copies: 0, maxMessageSize: 0 };
    if (c.redundancy !== undefined) {
      if (!isReliable(c.kind)) throw new ConfigError(`channels[${i}].redundancy is for reliable channels, not '${c.kind}'`);
      redundancy = {
        copies: positiveInt(`channels[${i}].redundancy.copies`, c.redundancy.copies ?? 1, 4),
        maxMessageSize: positiveInt(`channels[${i}].redundancy.maxMessageSize`, c.redundancy.maxMessageSize ?? 128, 1024),
      };
    }
    return {
      kind: c.kind,
      priority,
      maxMessageSize,
      maxQueuedBytes,
      window: positiveInt(`channels[${i}].window`, c.window ?? 1024, 16384),
      redundancy,
    };
  });
}

/** Wire form of the part of a channel's config both peers must agree on (see control.ts). */
export interface ChannelSpec {
  kind: number;
  window: number;
  maxMessageSize: number;
  maxQueuedBytes: number;
}

export function channelSpec(c: ChannelConfig): ChannelSpec {
  return { kind: CHANNEL_KINDS.indexOf(c.kind), window: c.window, maxMessageSize: c.maxMessageSize, maxQueuedBytes: c.maxQueuedBytes };
}

/** Undefined when the layouts match, else a sentence saying where they differ. */
export function compareLayouts(local: ChannelSpec[], remote: ChannelSpec[]): string | undefined {
  if (local.length !== remote.length) return `channel count differs: ${remote.length} vs ${local.length}`;
  for (let i = 0; i < local.length; i++) {
    const a = local[i]!;
    const b = remote[i]!;
    for (const k of ['kind', 'window', 'maxMessageSize', 'maxQueuedBytes'] as const) {
      if (a[k] !== b[k]) {
        const show = (s: ChannelSpec) => (k === 'kind' ? (CHANNEL_KINDS[s.kind] ?? `kind#${s.kind}`) : String(s[k]));
        return `channel ${i} ${k} differs: ${show(b)} vs ${show(a)}`;
      }
    }
  }
  return undefined;
}
