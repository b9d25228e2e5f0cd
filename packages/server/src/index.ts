/** @volley/server — the Volley game server (Node). */
export { HttpHost } from './http-host.js';
export type { HttpHostCounters, HttpHostOptions, RequestHandler, RouteOptions, UpgradeHandler } from './http-host.js';
export { TRANSPORT_KINDS } from './transport.js';
export type { TransportContext, TransportKind, TransportLink, TransportServer } from './transport.js';
export { Server } from './server.js';
export type { AnyMessageHandler, MessageHandler, MessageInfo, ServerEvents } from './server.js';
export { Session } from './session.js';
export type { SendOptions, SessionStats } from './session.js';
export { PollingTransport } from './transports/polling.js';
export type { PollingTransportOptions } from './transports/polling.js';
export { UdpTransport } from './transports/udp.js';
export type { UdpTransportOptions } from './transports/udp.js';
export { WebRtcTransport } from './transports/webrtc.js';
export type { WebRtcTransportOptions } from './transports/webrtc.js';
export { WebSocketTransport } from './transports/websocket.js';
export type { WebSocketTransportOptions } from './transports/websocket.js';
export type { AuthInfo, AuthResult, ServerOptions, UserData } from './server-options.js';
