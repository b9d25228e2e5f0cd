/**
 * Options for a server whose clients share one source address: a load test from one machine (`volley
 * loadtest`), or every client behind one proxy that does not pass their addresses on. Each per-source limit
 * (docs/security.md) is there to stop one address from taking a server's capacity; this lifts all of them to
 * `clients`, each where it lives: sessions, new sessions a second and links in handshake (limits), connect
 * tokens and new links a second (udp), WebRTC set-ups and signaling (webrtc), HTTP connections (http: two
 * per client, as a polling client holds a request and sends another, and some to spare).
 *
 * The four objects replace yours of the same name in a spread: put your own settings into them.
 *
 * @example
 * const shared = sharedSource(1000);
 * new Server({ ...shared, port: 2567, udp: { ...shared.udp, port: 2568 } });
 */

import type { ServerOptions } from './server-options.js';

export function sharedSource(clients: number): Required<Pick<ServerOptions, 'limits' | 'udp' | 'webrtc' | 'http'>> {
  if (!Number.isInteger(clients) || clients < 1) throw new RangeError(`sharedSource: clients must be an integer ≥ 1, got ${clients}`);
  return {
    limits: { maxSessionsPerSource: clients, newSessionsPerSecondPerSource: clients, maxPendingLinksPerSource: clients },
    udp: { tokensPerSecondPerSource: clients, linksPerSecondPerSource: clients },
    webrtc: { maxPendingPerSource: clients, signalingRequestsPerSecond: clients * 11, signalingBurst: clients * 11 },
    http: { maxConnectionsPerSource: 2 * clients + 64 },
  };
}
