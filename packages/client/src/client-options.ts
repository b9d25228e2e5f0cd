/** Options of a Volley client, with their defaults. */

import type { ChannelOptions, ConnectionOptions } from '@volley/protocol';
import type { ClientTransport, TransportFactory, TransportKind } from './transport.js';

export interface ConnectOptions {
  /**
   * Transports to use, best first. Default: webrtc, websocket, polling (udp first in Node). The client starts
   * on whichever opens first and moves to a better one when it opens (see `upgrade`).
   */
  transports?: TransportKind[];
  /**
   * Open every transport of the list at once where it helps, start on the first that answers, and move the
   * session to a better one when it opens (default true). false: try them strictly one after another.
   */
  upgrade?: boolean;
  /** A transport not open after this long is given up, ms. Default 5000. */
  openTimeout?: number;
  /**
   * With `upgrade`, a fallback further down the list (polling) starts only when the ones before it failed or
   * after this long with none open, ms. Default 1000.
   */
  fallbackDelay?: number;
  /** Sent to the server's onAuth (MessagePack-encoded, ≤ 1 KiB). */
  auth?: unknown;
  /** When the transport closes, another must resume the session within this long, or it ends (TransportLost), ms. Default min(8000, timeout). */
  resumeTimeout?: number;
  /** Period of the 'stats' event, ms (0: none). Default 1000. */
  statsInterval?: number;
  /**
   * A transport that delivers nothing for this long (ms) is taken for dead and the session moves on (pings
   * flow every second, so silence means loss of the path; UDP has no close signal). Default 3000.
   */
  transportTimeout?: number;
  /** Channel layout; default: the server's (from /volley/info). */
  channels?: ChannelOptions[];
  /** Protocol options (timeout, pingInterval, …). */
  protocol?: Omit<ConnectionOptions, 'channels' | 'retransmission' | 'nonce' | 'random'>;
  /** Transports of your own, or replacements for the built-in ones, by kind. */
  factories?: Partial<Record<TransportKind, TransportFactory>>;
  /** Wraps every transport the client opens (e.g. the devtools' link conditioner). */
  wrap?: (transport: ClientTransport) => ClientTransport;
  /** Deepest MessagePack nesting accepted from the server. Default 64. */
  maxMessageDepth?: number;
}

export interface ResolvedConnectOptions {
  transports: TransportKind[] | undefined;
  upgrade: boolean;
  openTimeout: number;
  fallbackDelay: number;
  auth: unknown;
  resumeTimeout: number | undefined;
  statsInterval: number;
  transportTimeout: number;
  channels: ChannelOptions[] | undefined;
  protocol: ConnectOptions['protocol'];
  factories: Partial<Record<TransportKind, TransportFactory>>;
  wrap: ((transport: ClientTransport) => ClientTransport) | undefined;
  maxMessageDepth: number;
}

function ms(name: string, v: number | undefined, def: number, allowZero = false): number {
  const x = v ?? def;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (!allowZero && x === 0)) {
    throw new RangeError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of ms, got ${String(v)}`);
  }
  return x;
}

function depth(v: number | undefined): number {
  const x = v ?? 64;
  if (!Number.isInteger(x) || x < 1) throw new RangeError(`maxMessageDepth must be a positive integer, got ${String(v)}`);
  return x;
}

export function resolveConnectOptions(o: ConnectOptions): ResolvedConnectOptions {
  return {
    transports: o.transports,
    upgrade: o.upgrade ?? true,
    openTimeout: ms('openTimeout', o.openTimeout, 5000),
    fallbackDelay: ms('fallbackDelay', o.fallbackDelay, 1000, true),
    auth: o.auth,
    resumeTimeout: o.resumeTimeout === undefined ? undefined : ms('resumeTimeout', o.resumeTimeout, 8000),
    statsInterval: ms('statsInterval', o.statsInterval, 1000, true),
    transportTimeout: ms('transportTimeout', o.transportTimeout, 3000),
    channels: o.channels,
    protocol: o.protocol,
    factories: o.factories ?? {},
    wrap: o.wrap,
    maxMessageDepth: depth(o.maxMessageDepth),
  };
}
