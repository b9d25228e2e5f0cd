/**
 * @volley/client — the Volley game client, browser entry (no Node-only import here or below).
 *
 *   const client = await connect('https://game.example.com', { auth: { token } });
 *   client.onMessage('chat', (text) => show(text));
 *   client.send('chat', 'hello');
 *   console.log(client.transport, client.rtt, client.serverTime());
 */

import { Client, connectWith, type ConnectOptions } from './client.js';
import { PollingClientTransport } from './transports/polling.js';
import { WebRtcClientTransport } from './transports/webrtc.js';
import { WebSocketClientTransport } from './transports/websocket.js';

export { Client, fetchInfo } from './client.js';
export type { ClientEvents, ClientStats, ConnectOptions, SendOptions } from './client.js';
export { ConnectError } from './connect-error.js';
export type { ConnectErrorCode, TransportFailure } from './connect-error.js';
export type { ClientTransport, ServerInfo, TransportFactory, TransportKind } from './transport.js';

/** Connects to a Volley server at `url` (its HTTP address), trying webrtc → websocket → polling by default. */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<Client> {
  return connectWith(
    url,
    options,
    {
      webrtc: (base, info) => new WebRtcClientTransport(base, info),
      websocket: (base, info) => new WebSocketClientTransport(base, info, globalThis.WebSocket),
      polling: (base, info) => new PollingClientTransport(base, info),
    },
    ['webrtc', 'websocket', 'polling'],
  );
}
