/**
 * What one connection may hold to send, across all its channels (docs/security.md, "Memory"): `maxSendBuffer`.
 * (What it receives is bounded per channel by maxQueuedBytes, which both sides agree on, so an honest sender never
 * needs more than the receiver holds: a session-wide receive cap smaller than that could deadlock a gap.)
 */

import { describe, expect, it } from 'vitest';
import { ConfigError, Connection, DEFAULT_MAX_QUEUED_BYTES, SendError, STANDARD_CHANNELS } from '../src/index.js';

const KB = 1024;

describe('maxSendBuffer', () => {
  it('past it a reliable send is back-pressure and an unreliable message is dropped', () => {
    const c = Connection.client({ nonce: 1, channels: STANDARD_CHANNELS, maxSendBuffer: 300 * KB });
    for (let i = 0; i < 2; i++) c.send(0, new Uint8Array(100 * KB));
    c.send(1, new Uint8Array(100 * KB));
    expect(() => c.send(1, new Uint8Array(100 * KB))).toThrow(SendError);
    expect(() => c.send(1, new Uint8Array(100 * KB))).toThrow(/maxSendBuffer \(307200\)/);
    expect(c.send(3, new Uint8Array(1 * KB))).toBeUndefined();
    expect(c.stats().sendQueueDrops).toBe(1);
    expect(c.stats().channels.reduce((n, ch) => n + ch.queuedBytes, 0)).toBe(300 * KB);
    // Channel 1 alone would have taken it (256 KiB each): the cap is the connection's.
    expect(c.options.channels.every((ch) => ch.maxQueuedBytes === DEFAULT_MAX_QUEUED_BYTES)).toBe(true);
  });

  it('defaults to the channels’ caps added up, and cannot be below the largest message', () => {
    const c = Connection.client({ nonce: 1, channels: STANDARD_CHANNELS });
    expect(c.options.maxSendBuffer).toBe(STANDARD_CHANNELS.length * DEFAULT_MAX_QUEUED_BYTES);
    expect(() => Connection.client({ nonce: 1, maxSendBuffer: 100 * KB })).toThrow(ConfigError);
    expect(() => Connection.client({ nonce: 1, maxSendBuffer: 100 * KB })).toThrow(/maxSendBuffer must be an integer in 262144\.\./);
  });
});
