/** @volley/server — the Volley game server (Node). */
export { HttpHost } from './http-host.js';
export type { RequestHandler, UpgradeHandler } from './http-host.js';
export { TRANSPORT_KINDS } from './transport.js';
export type { TransportContext, TransportKind, TransportLink, TransportServer } from './transport.js';
export { Server } from './server.js';
export type { AnyMessageHandler, MessageHandler, MessageInfo } from './server.js';
export { Session } from './session.js';
export type { SendOptions, SessionStats } from './session.js';
export type { AuthInfo, AuthResult, ServerOptions, UserData } from './server-options.js';
