/**
 * @volley/client for Node (bots, tools, tests): the same API as the browser entry, plus raw UDP, WebRTC
 * through node-datachannel, and WebSocket through `ws`. Default order: udp → webrtc → websocket → polling.
 */

import { WebSocket as NodeWebSocket } from 'ws';
import { Client } from './client.js';
import type { ConnectOptions } from './client-options.js';
import { installNodeWebRTC } from './node-webrtc.js';
import type { TransportFactory, TransportKind } from './transport.js';
import { PollingClientTransport } from './transports/polling.js';
import { UdpClientTransport } from './transports/udp.js';
import { WebRtcClientTransport } from './transports/webrtc.js';
import { WebSocketClientTransport } from './transports/websocket.js';

export * from './index.js';
export { UdpClientTransport } from './transports/udp.js';
export { installNodeWebRTC } from './node-webrtc.js';

/** Node's transports, best first. */
export const NODE_TRANSPORTS: readonly TransportKind[] = ['udp', 'webrtc', 'websocket', 'polling'];

const nodeFactories: Partial<Record<TransportKind, TransportFactory>> = {
  udp: (base, info) => new UdpClientTransport(base, info),
  webrtc: (base, info) => new WebRtcClientTransport(base, info),
  websocket: (base, info) => new WebSocketClientTransport(base, info, NodeWebSocket as unknown as typeof WebSocket),
  polling: (base, info) => new PollingClientTransport(base, info),
};

/** A client for the server at `url`; register handlers, then `await client.connect()` (WebRTC is set up then). */
export function createClient(url: string | URL, options: ConnectOptions = {}): Client {
  return new NodeClient(url, options, nodeFactories, NODE_TRANSPORTS);
}

/** Connects to a Volley server at `url` (its HTTP address), UDP first (see NODE_TRANSPORTS). */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<Client> {
  return createClient(url, options).connect();
}

class NodeClient extends Client {
  override async connect(): Promise<this> {
    // Without node-datachannel, WebRTC fails to open with a clear reason and the others carry the session.
    if ((this.options.transports ?? NODE_TRANSPORTS).includes('webrtc')) await installNodeWebRTC().catch(() => undefined);
    return super.connect();
  }
}
