/**
 * @volley/client for Node (bots, tools, tests): the same API as the browser entry, plus raw UDP, WebRTC
 * through node-datachannel, and WebSocket through `ws`. Default order: udp → webrtc → websocket → polling.
 */

import { WebSocket as NodeWebSocket } from 'ws';
import { connectWith, type Client, type ConnectOptions } from './client.js';
import { installNodeWebRTC } from './node-webrtc.js';
import { PollingClientTransport } from './transports/polling.js';
import { UdpClientTransport } from './transports/udp.js';
import { WebRtcClientTransport } from './transports/webrtc.js';
import { WebSocketClientTransport } from './transports/websocket.js';

export * from './index.js';

/** Connects to a Volley server at `url` (its HTTP address), trying udp → webrtc → websocket → polling by default. */
export async function connect(url: string | URL, options: ConnectOptions = {}): Promise<Client> {
  const order = options.transports ?? ['udp', 'webrtc', 'websocket', 'polling'];
  if (order.includes('webrtc') || options.upgrade) await installNodeWebRTC();
  return connectWith(
    url,
    options,
    {
      udp: (base, info) => new UdpClientTransport(base, info),
      webrtc: (base, info) => new WebRtcClientTransport(base, info),
      websocket: (base, info) => new WebSocketClientTransport(base, info, NodeWebSocket as unknown as typeof WebSocket),
      polling: (base, info) => new PollingClientTransport(base, info),
    },
    order,
  );
}
