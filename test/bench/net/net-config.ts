/** The network benchmark's paths, sizes and bounds (every loop and wait is bounded by one of these). */

import type { ChannelOptions } from '@volley/protocol';
import type { LinkSpec } from './relay-protocol.js';

/** Case 1: 2 Mbit/s, a 28.9 KB tail-drop queue, 20 ms one way; the same each way. */
export const BOTTLENECK: LinkSpec = { delayMs: 20, rateBitsPerSecond: 2_000_000, queueBytes: 28_900 };
/** Case 1a/1b: the upload's size. */
export const UPLOAD_BYTES = 5_000_000;
/** Longest an upload may take before its figures are taken as they are (marked incomplete). */
export const UPLOAD_TIMEOUT_MS = 60_000;
/** Case 1b: the stream beside the upload, on a channel of higher priority. */
export const STREAM_HZ = 60;
/** After an upload: time for the stream's last messages (and the upload's last acks) to arrive. */
export const SETTLE_MS = 500;
/** Case 1c: how long both uploads share the bottleneck, and how much of the start is left out of the figures. */
export const SHARE_MS = 20_000;
export const SHARE_WARMUP_MS = 5_000;

/** Volley's layout for case 1: the upload on a reliable channel, the stream on an unreliable one that goes first. */
export const UPLOAD_CHANNELS: ChannelOptions[] = [
  { kind: 'reliable-ordered', maxQueuedBytes: 1 << 20 },
  { kind: 'unreliable', priority: 10 },
];

/** Case 2: 30 ms one way, no rate limit; kernel loss on each way (nftables, prerouting). */
export const LOSS_PATH: LinkSpec = { delayMs: 30 };
export const LOSS_PERCENTS = [0, 10, 20];
/** Case 2: 60 messages a second of 64 B, reliable-ordered, for this long, after LOSS_SETTLE_MS with the loss in place. */
export const LOSS_STREAM_MS = 20_000;
export const LOSS_SETTLE_MS = 1_000;
/**
 * After the stream: longest wait for every message to arrive. Long, because at 20 % loss each way a TCP
 * connection can sit in exponential RTO back-off for seconds (seen: half of bare ws's messages still out 5 s on).
 */
export const DRAIN_MS = 15_000;

/** The whole run: a case not started by then is skipped (and says so). */
export const BUDGET_MS = 290_000;
