/**
 * @volley/client — the Volley game client, browser entry (no Node-only import here or below).
 *
 *   const client = await connect('https://game.example.com', { auth: { token } });
 *   client.onMessage('chat', (text) => show(text));
 *   client.send('chat', 'hello');
 *   console.log(client.transport, client.rtt, client.serverTime());
 */

import { Client } from './client.js';
import type { ConnectOptions } from './client-options.js';
import type { TransportFactory, TransportKind } from './transport.js';
import { PollingClientTransport } from './transports/polling.js';
import { WebRtcClientTransport } from './transports/webrtc.js';
import { WebSocketClientTransport } from './transports/websocket.js';

export { Client } from './client.js';
export type { ClientEvents, ClientStats, SendOptions } from './client.js';
export type { ConnectOptions } from './client-options.js';
export { fetchInfo } from './server-info.js';
export { ConnectError } from './connect-error.js';
export type { ConnectErrorCode, TransportFailure } from './connect-error.js';
export type { ClientTransport, ServerInfo, TransportFactory, TransportKind } from './transport.js';
export { PollingClientTransport } from './transports/polling.js';
export { WebRtcClientTransport } from './transports/webrtc.js';
export { WebSocketClientTransport } from './transports/websocket.js';
export { Room } from './rooms/room.js';
export type { RoomEvents, RoomSendOptions, RoomStats } from './rooms/room.js';
export { RoomError } from './rooms/room-error.js';
export { InputSender } from './rooms/input-sender.js';
export type { InputOptions } from './rooms/input-sender.js';
export type { RoomErrorCode } from './rooms/room-error.js';
export { ClientRooms } from './rooms/client-rooms.js';
export type { RoomAvailable, StateClass } from './rooms/client-rooms.js';
export type { RoomLink } from './rooms/room-link.js';
export { LeaveCode, SnapshotBuffer, lerp, lerpAngle } from '@volley/protocol';
export type { Interpolate, SampleInfo } from '@volley/protocol';
export { Interpolator } from './netcode/interpolator.js';
export type { InterpolatorOptions, InterpolatorStats } from './netcode/interpolator.js';
export { InterpolationDelay } from './netcode/interpolation-delay.js';
export type { InterpolationDelayOptions } from './netcode/interpolation-delay.js';
export { Predictor } from './netcode/predictor.js';
export type { PredictorOptions, PredictorStats } from './netcode/predictor.js';
export { ServerClock } from './netcode/server-clock.js';
export type { ServerClockOptions } from './netcode/server-clock.js';

/** The browser's transports, best first. */
export const BROWSER_TRANSPORTS: readonly TransportKind[] = ['webrtc', 'websocket', 'polling'];

const browserFactories: Partial<Record<TransportKind, TransportFactory>> = {
  webrtc: (base, info) => new WebRtcClientTransport(base, info),
  websocket: (base, info) => new WebSocketClientTransport(base, info, globalThis.WebSocket),
  polling: (base, info) => new PollingClientTransport(base, info),
};

/** A client for the server at `url` (its HTTP address); register handlers, then `await client.connect()`. */
export function createClient(url: string | URL, options: ConnectOptions = {}): Client {
  return new Client(url, options, browserFactories, BROWSER_TRANSPORTS);
}

/**
 * Connects to a Volley server at `url` (its HTTP address): WebRTC and WebSocket are opened at once, the
 * session starts on the first to answer and moves to WebRTC when it opens; long-polling is the fallback.
 */
export function connect(url: string | URL, options: ConnectOptions = {}): Promise<Client> {
  return createClient(url, options).connect();
}
