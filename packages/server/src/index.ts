/** @volley/server — the Volley game server (Node). */
export { HttpHost } from './http-host.js';
export type { RequestHandler, UpgradeHandler } from './http-host.js';
export { TRANSPORT_KINDS } from './transport.js';
export type { TransportContext, TransportKind, TransportLink, TransportServer } from './transport.js';
