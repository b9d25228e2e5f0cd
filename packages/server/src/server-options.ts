/** Options of a Volley Server, their defaults and validation. */

import type { Server as HttpServer } from 'node:http';
import { ConfigError, SERVER_ENDPOINT_DEFAULTS, STANDARD_CHANNELS, type ChannelOptions, type ConnectionOptions } from '@volley/protocol';
import type { HttpHostOptions } from './http-host.js';
import type { RedisMatchmakingOptions } from './cluster/redis-matchmaking.js';
import type { MatchmakerOptions } from './rooms/matchmaker.js';
import { ROOM_HUB_DEFAULTS, type RoomHubLimits } from './rooms/room-hub.js';
import { TRANSPORT_KINDS, type TransportKind, type TransportLink, type TransportServer } from './transport.js';
import type { PollingTransportOptions } from './transports/polling.js';
import type { UdpTransportOptions } from './transports/udp.js';
import type { WebRtcTransportOptions } from './transports/webrtc.js';
import type { WebSocketTransportOptions } from './transports/websocket.js';

/** What a client session carries once accepted: whatever onAuth returned. */
export type UserData = unknown;

export interface AuthInfo {
  /** The transport the client connected over. */
  transport: TransportKind;
  /** Its address, e.g. "127.0.0.1:53422". */
  remote: string;
}

/** onAuth's verdict: accept (with user data for the session) or reject with a reason the client receives. */
export type AuthResult = { accept: true; user?: UserData } | { accept: false; reason?: string };

export interface ServerOptions {
  /** Host to listen on (HTTP, UDP, WebRTC). Default '127.0.0.1'. */
  host?: string;
  /** HTTP port: signaling, WebSocket, polling, /volley/info. Default 8080; 0 picks a free one. */
  port?: number;
  /** UDP port for native clients. Default port + 1 (0 when port is 0). */
  udpPort?: number;
  /**
   * Transports offered, in any order: a kind (made with the options below) or a transport instance you made
   * with all its options, e.g. `new UdpTransport({ maxLinks: 100 })`. Default all four kinds.
   */
  transports?: (TransportKind | TransportServer)[];
  /** Limits of the HTTP port: request timeouts, body caps, connection caps (docs/transports.md, "HTTP limits"). */
  http?: HttpHostOptions;
  /** Attach to an existing HTTP server instead of creating one (the caller listens and closes it). */
  server?: HttpServer;
  /** WebRTC (geckos.io) options. iceServers default [] — no public STUN server unless you set one. */
  webrtc?: WebRtcTransportOptions;
  /** WebSocket options (path, sizes). */
  websocket?: WebSocketTransportOptions;
  /** Long-polling options (hold and abandon times, sizes). */
  polling?: PollingTransportOptions;
  /** UDP options other than the port (`udpPort`): link limits, idle time, cookie secret. */
  udp?: Omit<UdpTransportOptions, 'port'>;
  /** Channel layout; clients must use the same. Default STANDARD_CHANNELS. */
  channels?: ChannelOptions[];
  /** Protocol options for every session (timeout, pingInterval, …). */
  protocol?: Omit<ConnectionOptions, 'channels' | 'retransmission' | 'nonce'>;
  /** Decides on each connecting client from its auth payload (whatever the client passed as `auth`). */
  onAuth?: (auth: unknown, info: AuthInfo) => AuthResult | Promise<AuthResult>;
  /** Rooms and matchmaking (docs/rooms.md): where listings and locks live, this process's id, per-session caps. */
  rooms?: MatchmakerOptions & Partial<RoomHubLimits>;
  /**
   * Shares matchmaking with every server process on the same Redis (docs/scaling.md): room listings, seat
   * reservations, locks, and each process's load for placing new rooms. A URL (`redis://127.0.0.1:6379`) or
   * options (key prefix, heartbeat and expiry). Unset (the default): this process matchmakes alone, in memory.
   */
  redis?: string | RedisMatchmakingOptions;
  /**
   * Where clients reach this process, when it is not where it listens (behind a proxy or NAT): what other
   * processes send clients to for its rooms. Default: `address().url`.
   */
  publicUrl?: string;
  /**
   * Serves `server.load()` as JSON at GET /volley/load to a request with `Authorization: Bearer <loadToken>`
   * (for `volley loadtest` and dashboards). Unset (the default): no such route. At least 16 characters.
   */
  loadToken?: string;
  /**
   * Wraps every client's link as it opens (the core then talks to what this returns): for a link
   * conditioner (`new Server({ wrapLink: conditioner.wrapLink })`, @volley/devtools) or instrumentation.
   */
  wrapLink?: (link: TransportLink) => TransportLink;
  /** Limits; going over one disconnects that session with a reason, never affects others. */
  limits?: {
    /** Default 1000. Past it new clients are refused with ServerFull. */
    maxSessions?: number;
    /** Largest message a client may send, bytes (applied to every channel). Default 256 KiB. */
    maxMessageSize?: number;
    /** Messages delivered per second per session, sustained (bursts of 2 s allowed). Default 2000. */
    messagesPerSecond?: number;
    /**
     * Bytes per second per session, sustained (bursts of 2 s allowed): the wire bytes of every datagram the
     * session sends (messages, acks, pings, duplicates, malformed ones). Default 4 MiB.
     */
    bytesPerSecond?: number;
    /**
     * Datagrams per second per session, sustained (bursts of 2 s allowed): every datagram counts, whatever it
     * carries. A 60 Hz game sends 60–120. Default 1000.
     */
    packetsPerSecond?: number;
    /**
     * Sessions from one source (IP address; IPv6 by /64) at once, being authorized, connected or closing; past
     * it a new client is refused with ServerFull. Many players can share one NAT: raise it for LAN parties or
     * campuses, and behind a reverse proxy (every client then has the proxy's address). Default 64.
     */
    maxSessionsPerSource?: number;
    /** Links from one source still in their handshake (no CONNECT or RESUME yet); a link past it is closed at once. Default 32. */
    maxPendingLinksPerSource?: number;
    /** New sessions one source may start per second (bursts of 2 s allowed); past it a client is refused with RateLimited. Default 10. */
    newSessionsPerSecondPerSource?: number;
    /** A link that sends no valid CONNECT or RESUME within this many ms is closed. Default 10000. */
    handshakeTimeout?: number;
    /** Deepest MessagePack nesting accepted in a message or the auth payload. Default 64. */
    maxMessageDepth?: number;
    /** Unusable messages (bad envelope or MessagePack) a session may send before it is cut (ProtocolViolation). Default 16. */
    maxMalformedMessages?: number;
    /**
     * Bytes one session may hold to send (queued, and unacknowledged on reliable channels) over all channels:
     * past it a reliable send fails with SendError('backpressure') and an unreliable message is dropped.
     * Default 1 MiB (at least maxMessageSize).
     */
    maxSendBuffer?: number;
  };
}

export interface ResolvedServerOptions {
  host: string;
  port: number;
  udpPort: number;
  transports: (TransportKind | TransportServer)[];
  channels: ChannelOptions[];
  maxSessions: number;
  maxMessageSize: number;
  messagesPerSecond: number;
  bytesPerSecond: number;
  packetsPerSecond: number;
  maxSessionsPerSource: number;
  maxPendingLinksPerSource: number;
  newSessionsPerSecondPerSource: number;
  handshakeTimeout: number;
  maxMessageDepth: number;
  maxMalformedMessages: number;
  maxSendBuffer: number;
  maxRoomsPerSession: number;
  maxPendingJoins: number;
  joinsPerSecond: number;
  loadToken: string | undefined;
  wrapLink: ((link: TransportLink) => TransportLink) | undefined;
}

function atLeast(name: string, v: number, min: number): number {
  if (v < min) throw new ConfigError(`${name} must be at least limits.maxMessageSize (${min}), got ${v}`);
  return v;
}

function positive(name: string, v: number | undefined, def: number, integer = true): number {
  const x = v ?? def;
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x)))
    throw new ConfigError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(v)}`);
  return x;
}

export function resolveServerOptions(o: ServerOptions): ResolvedServerOptions {
  const port = o.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`port must be 0..65535, got ${port}`);
  const udpPort = o.udpPort ?? (port === 0 ? 0 : port + 1);
  if (!Number.isInteger(udpPort) || udpPort < 0 || udpPort > 65535) throw new ConfigError(`udpPort must be 0..65535, got ${udpPort}`);
  const transports = o.transports ?? [...TRANSPORT_KINDS];
  for (const t of transports) {
    const kind = typeof t === 'string' ? t : t.kind;
    if (!TRANSPORT_KINDS.includes(kind))
      throw new ConfigError(`unknown transport '${String(kind)}' (known: ${TRANSPORT_KINDS.join(', ')})`);
  }
  if (transports.length === 0) throw new ConfigError('at least one transport must be enabled');
  const kinds = transports.map((t) => (typeof t === 'string' ? t : t.kind));
  const twice = kinds.find((k, i) => kinds.indexOf(k) !== i);
  if (twice) throw new ConfigError(`transport '${twice}' is listed twice`);
  const maxMessageSize = positive('limits.maxMessageSize', o.limits?.maxMessageSize, 256 * 1024);
  const l = o.limits;
  const d = SERVER_ENDPOINT_DEFAULTS;
  const channels = (o.channels ?? STANDARD_CHANNELS).map((c) => ({ ...c, maxMessageSize: c.maxMessageSize ?? maxMessageSize }));
  return {
    host: o.host ?? '127.0.0.1',
    port,
    udpPort,
    transports,
    channels,
    maxSessions: positive('limits.maxSessions', l?.maxSessions, d.maxSessions),
    maxMessageSize,
    messagesPerSecond: positive('limits.messagesPerSecond', l?.messagesPerSecond, 2000, false),
    bytesPerSecond: positive('limits.bytesPerSecond', l?.bytesPerSecond, d.bytesPerSecond, false),
    packetsPerSecond: positive('limits.packetsPerSecond', l?.packetsPerSecond, d.packetsPerSecond, false),
    maxSessionsPerSource: positive('limits.maxSessionsPerSource', l?.maxSessionsPerSource, d.maxSessionsPerSource),
    maxPendingLinksPerSource: positive('limits.maxPendingLinksPerSource', l?.maxPendingLinksPerSource, d.maxPendingLinksPerSource),
    newSessionsPerSecondPerSource: positive(
      'limits.newSessionsPerSecondPerSource',
      l?.newSessionsPerSecondPerSource,
      d.newSessionsPerSecondPerSource,
      false,
    ),
    handshakeTimeout: positive('limits.handshakeTimeout', l?.handshakeTimeout, d.handshakeTimeout),
    maxMessageDepth: positive('limits.maxMessageDepth', o.limits?.maxMessageDepth, 64),
    maxMalformedMessages: positive('limits.maxMalformedMessages', o.limits?.maxMalformedMessages, 16),
    maxSendBuffer: atLeast(
      'limits.maxSendBuffer',
      positive('limits.maxSendBuffer', l?.maxSendBuffer, Math.max(1 << 20, maxMessageSize)),
      maxMessageSize,
    ),
    maxRoomsPerSession: positive('rooms.maxRoomsPerSession', o.rooms?.maxRoomsPerSession, ROOM_HUB_DEFAULTS.maxRoomsPerSession),
    maxPendingJoins: positive('rooms.maxPendingJoins', o.rooms?.maxPendingJoins, ROOM_HUB_DEFAULTS.maxPendingJoins),
    joinsPerSecond: positive('rooms.joinsPerSecond', o.rooms?.joinsPerSecond, ROOM_HUB_DEFAULTS.joinsPerSecond, false),
    loadToken: loadToken(o.loadToken),
    wrapLink: o.wrapLink,
  };
}

function loadToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (typeof token !== 'string' || token.length < 16) throw new ConfigError('loadToken must be a string of at least 16 characters');
  return token;
}
