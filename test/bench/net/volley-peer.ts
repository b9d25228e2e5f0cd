/**
 * Volley's side of the network benchmark: a real Server (@volley/server) on 127.0.0.1 and the Node client
 * (@volley/client) reaching it through a relay. Over UDP the client fetches its connect token from the
 * server's HTTP port directly and sends every datagram to the relay's UDP port (a transport factory gives
 * the UDP transport the relay's port instead of the server's); over WebSocket everything, /volley/info
 * included, goes to the relay's TCP port.
 */

import { connect, UdpClientTransport, type Client, type ServerInfo } from '@volley/client';
import type { ChannelOptions } from '@volley/protocol';
import { Server } from '@volley/server';

/** The server's per-session and per-source limits, out of the way: one client sends a bulk upload. */
export const BENCH_LIMITS = {
  messagesPerSecond: 1e6,
  bytesPerSecond: 1e9,
  packetsPerSecond: 1e6,
  maxSessionsPerSource: 1000,
  maxPendingLinksPerSource: 1000,
  newSessionsPerSecondPerSource: 1000,
};

const OPEN_TIMEOUT_MS = 10_000;

export async function startVolleyServer(transports: ('udp' | 'websocket')[], channels: ChannelOptions[]): Promise<Server> {
  const server = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, transports, channels, limits: BENCH_LIMITS });
  await server.listen();
  return server;
}

/** The server's info with its UDP endpoint moved to `port` (the relay's). */
function viaPort(info: ServerInfo, port: number): ServerInfo {
  return { ...info, endpoints: { ...info.endpoints, udp: { ...info.endpoints.udp, port } } };
}

/** A client of `server` over raw UDP, every datagram through the relay listening on `relayPort`. */
export function connectUdpViaRelay(server: Server, relayPort: number, channels: ChannelOptions[]): Promise<Client> {
  return connect(server.address().url, {
    transports: ['udp'],
    channels,
    openTimeout: OPEN_TIMEOUT_MS,
    statsInterval: 0,
    factories: { udp: (base, info) => new UdpClientTransport(base, viaPort(info, relayPort)) },
  });
}

/** A client over WebSocket through the TCP relay listening on `relayPort` (which forwards to the server's HTTP port). */
export function connectWebSocketViaRelay(relayPort: number, channels: ChannelOptions[]): Promise<Client> {
  return connect(`http://127.0.0.1:${relayPort}`, { transports: ['websocket'], channels, openTimeout: OPEN_TIMEOUT_MS, statsInterval: 0 });
}

/** The client's protocol counters and congestion model, JSON-safe (Infinity becomes null). */
export function volleyFigures(client: Client): VolleyFigures {
  const s = client.stats();
  const finite = (x: number): number | null => (Number.isFinite(x) ? Math.round(x * 100) / 100 : null);
  return {
    packetsSent: s.packetsSent,
    bytesSent: s.bytesSent,
    packetsReceived: s.packetsReceived,
    retransmissions: s.retransmissions,
    packetsLost: s.packetsLost,
    spuriousLosses: s.spuriousLosses,
    rttMs: finite(s.rtt.smoothed),
    congestion: {
      state: s.congestion.state,
      bandwidthBytesPerSecond: finite(s.congestion.bandwidth),
      congestionWindow: finite(s.congestion.congestionWindow),
      pacingRateBytesPerSecond: finite(s.congestion.pacingRate),
      minRttMs: finite(s.congestion.minRtt),
      queueDelayMs: finite(s.congestion.queueDelay),
    },
  };
}

export interface VolleyFigures {
  /** Protocol datagrams and their bytes (no UDP framing, no IP headers), as the client counts them. */
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  retransmissions: number;
  packetsLost: number;
  spuriousLosses: number;
  rttMs: number | null;
  congestion: {
    state: string;
    bandwidthBytesPerSecond: number | null;
    congestionWindow: number | null;
    pacingRateBytesPerSecond: number | null;
    minRttMs: number | null;
    queueDelayMs: number | null;
  };
}
