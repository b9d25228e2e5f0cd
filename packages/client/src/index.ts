/** @volley/client — the Volley game client (browsers; Node adds UDP and WebRTC via node.ts). */
export type { ClientTransport, ServerInfo, TransportFactory, TransportKind } from './transport.js';
