/** Options of a Connection, their defaults and validation (every bad value is a ConfigError naming it). */

import { resolveChannels, type ChannelConfig, type ChannelOptions } from './channel-config.js';
import { MAX_ACK_DELAY } from './control.js';
import { ConfigError } from './errors.js';
import { MAX_HEADER_SIZE } from './header.js';
import type { RandomSource } from './random.js';
import { MAX_RECORD_HEADER_SIZE } from './record.js';
import type { TraceListener } from './trace.js';

/**
 * The max ack delay the Server and the Client use unless told otherwise, ms: a little over the interval of a
 * 20 Hz state or input stream, so an owed ack waits for the next one and rides on it instead of taking a
 * datagram of its own (a late timer still leaves the state a few ms to go first).
 */
export const HOST_MAX_ACK_DELAY = 60;

export interface ConnectionOptions {
  /** Channel layout; both peers must use the same. Default: [reliable-ordered, unreliable]. */
  channels?: readonly ChannelOptions[];
  /** Largest datagram sent, bytes (200–65507). Default 1200, safe for WebRTC and most paths. */
  mtu?: number;
  /** No packet from the peer for this long (ms) ends the connection. Default 10000. */
  timeout?: number;
  /** Send at least one packet this often (ms) while connected, even with nothing to say. Default 1000. */
  keepaliveInterval?: number;
  /** Ping period (ms) for RTT, jitter, loss and clock offset; 0 disables. Default 1000. */
  pingInterval?: number;
  /**
   * Longest we hold an owed ack hoping it rides on a packet we send anyway (whole ms, 0–100). It is announced in
   * the handshake, and the peer's probe timeout waits for it. Default 20: a 60 Hz stream is acked about every
   * second packet. A peer that sends its own traffic at a steady rate (a server's 20 Hz state) can hold acks a
   * little longer than its interval, so they ride on it instead of taking datagrams of their own: the Server
   * and the Client default to HOST_MAX_ACK_DELAY (60).
   */
  maxAckDelay?: number;
  /** RTT assumed before the first sample (ms). Default 100. */
  initialRtt?: number;
  /** Clamp for the retransmission (probe) timeout, ms. Defaults 30 and 2000. */
  minRto?: number;
  maxRto?: number;
  /** First CONNECT retry interval (ms), backing off ×1.5 up to 1 s. Default 250. */
  connectRetryInterval?: number;
  /** Resend lost reliable content. Turn off on transports that are already reliable (WebSocket, polling). Default true. */
  retransmission?: boolean;
  /** Partial unreliable fragmented messages older than this (ms) are dropped. Default 2000. */
  reassemblyTimeout?: number;
  /** Samples kept for the windowed RTT figures. Default 128. */
  rttWindow?: number;
  /**
   * Client: the connection attempt's nonce (u32). Default: drawn from `random`. A client needs one of the two:
   * the protocol has no randomness of its own.
   */
  nonce?: number;
  /** Client: where the nonce comes from when `nonce` is not given (a cryptographic source in hosts, a seeded `Random` in tests). */
  random?: RandomSource;
  /** Copies of DISCONNECT sent, 10 ms apart. Default 3. */
  disconnectCopies?: number;
  /**
   * Bytes the connection may hold to send in all its channels together (queued, and sent but not acknowledged
   * on reliable channels): past it a reliable send throws SendError('backpressure') and an unreliable message is
   * dropped. Default: the channels' maxQueuedBytes added up (no limit beyond theirs).
   */
  maxSendBuffer?: number;
  /** Event trace; off (and free) when absent. */
  trace?: TraceListener;
}

export interface ResolvedOptions {
  channels: ChannelConfig[];
  mtu: number;
  timeout: number;
  keepaliveInterval: number;
  pingInterval: number;
  maxAckDelay: number;
  initialRtt: number;
  minRto: number;
  maxRto: number;
  connectRetryInterval: number;
  retransmission: boolean;
  maxSendBuffer: number;
  reassemblyTimeout: number;
  rttWindow: number;
  /** undefined when neither `nonce` nor `random` was given (a server connection needs none). */
  nonce: number | undefined;
  disconnectCopies: number;
  trace: TraceListener | undefined;
  /** Payload bytes per fragment. */
  fragmentSize: number;
  /** Messages up to this size travel whole. */
  wholeLimit: number;
}

function num(name: string, v: number | undefined, def: number, min: number, max: number, integer = false): number {
  const x = v ?? def;
  if (typeof x !== 'number' || Number.isNaN(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
    throw new ConfigError(`${name} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${String(v)}`);
  }
  return x;
}

export function resolveOptions(o: ConnectionOptions = {}): ResolvedOptions {
  const mtu = num('mtu', o.mtu, 1200, 200, 65507, true);
  const fragmentSize = mtu - MAX_HEADER_SIZE - MAX_RECORD_HEADER_SIZE;
  const channels = resolveChannels(o.channels);
  channels.forEach((c, i) => {
    // Fragment counts travel as u16: the largest message must fit in 65535 fragments at this MTU.
    if (c.maxMessageSize > 0xffff * fragmentSize) {
      throw new ConfigError(
        `channels[${i}].maxMessageSize (${c.maxMessageSize}) needs more than 65535 fragments at mtu ${mtu}; at most ${0xffff * fragmentSize}`,
      );
    }
  });
  const minRto = num('minRto', o.minRto, 30, 1, 60_000);
  const allQueued = channels.reduce((n, c) => n + c.maxQueuedBytes, 0);
  const largest = channels.reduce((n, c) => Math.max(n, c.maxMessageSize), 0);
  const maxRto = num('maxRto', o.maxRto, 2000, minRto, 600_000);
  return {
    channels,
    mtu,
    timeout: num('timeout', o.timeout, 10_000, 1, 86_400_000),
    keepaliveInterval: num('keepaliveInterval', o.keepaliveInterval, 1000, 1, 86_400_000),
    pingInterval: num('pingInterval', o.pingInterval, 1000, 0, 86_400_000),
    maxAckDelay: num('maxAckDelay', o.maxAckDelay, 20, 0, MAX_ACK_DELAY, true),
    initialRtt: num('initialRtt', o.initialRtt, 100, 1, 60_000),
    minRto,
    maxRto,
    connectRetryInterval: num('connectRetryInterval', o.connectRetryInterval, 250, 1, 60_000),
    retransmission: o.retransmission ?? true,
    maxSendBuffer: num('maxSendBuffer', o.maxSendBuffer, allQueued, largest, Number.MAX_SAFE_INTEGER, true),
    reassemblyTimeout: num('reassemblyTimeout', o.reassemblyTimeout, 2000, 1, 600_000),
    rttWindow: num('rttWindow', o.rttWindow, 128, 1, 1_000_000, true),
    nonce: o.nonce === undefined ? o.random?.nextU32() : num('nonce', o.nonce, 0, 0, 0xffff_ffff, true),
    disconnectCopies: num('disconnectCopies', o.disconnectCopies, 3, 1, 10, true),
    trace: o.trace,
    fragmentSize,
    // flags + id + u16 length: the worst whole-record header.
    wholeLimit: mtu - MAX_HEADER_SIZE - 5,
  };
}
