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
export { sharedSource } from './shared-source.js';
export { ServerError } from './server-error.js';
export type { ServerErrorCode } from './server-error.js';

// Rooms, matchmaking and state sync (docs/rooms.md).
export { Room } from './rooms/room.js';
export type { BroadcastOptions, JoinContext, RoomMessageHandler, RoomAnyMessageHandler, RoomMetadata } from './rooms/room.js';
export { RoomClient } from './rooms/room-client.js';
export { LobbyRoom } from './rooms/lobby-room.js';
export type { LobbyEntry } from './rooms/lobby-room.js';
export type { RoomClientState, RoomSendOptions } from './rooms/room-client.js';
export { RoomClock } from './rooms/room-clock.js';
export type { ClockTimer } from './rooms/room-clock.js';
export type { TickHealth } from './rooms/simulation-loop.js';
export { Matchmaker } from './rooms/matchmaker.js';
export type { MatchmakerOptions, SeatReservation, Placement, LocalSeat, Redirect } from './rooms/matchmaker.js';
export { RoomDefinition } from './rooms/room-definition.js';
export type { RoomClass } from './rooms/room-definition.js';
export type { MatchmakerDriver, Presence } from './rooms/matchmaker-driver.js';
export { MemoryDriver, MemoryPresence } from './rooms/memory-driver.js';
export type { RoomListing, ListingQuery, ListingChange } from './rooms/room-listing.js';

// Several processes sharing matchmaking (docs/scaling.md).
export type { Cluster, ProcessInfo, RemoteCall, RemoteReply } from './cluster/cluster.js';
export { placeRoom, loadOf } from './cluster/placement.js';
export { RedisMatchmaking } from './cluster/redis-matchmaking.js';
export type { RedisMatchmakingOptions } from './cluster/redis-matchmaking.js';
export type { RedisOptions } from './cluster/redis-link.js';
export type { RedisClusterOptions } from './cluster/redis-cluster.js';
export { RedisDriver } from './cluster/redis-driver.js';
export { RedisPresence } from './cluster/redis-presence.js';
export { RedisCluster } from './cluster/redis-cluster.js';
export { JoinError } from './rooms/join-error.js';
export { LeaveCode } from '@volley/protocol';
// The room layer over your own sessions (what @volley/testing does): a hub, its peers, its environment.
export { RoomHub, ROOM_HUB_DEFAULTS } from './rooms/room-hub.js';
export type { RoomHubLimits } from './rooms/room-hub.js';
export type { RoomPeer } from './rooms/room-peer.js';
export { nodeRoomEnvironment } from './rooms/room-environment.js';
export type { RoomEnvironment } from './rooms/room-environment.js';
export type { RoomRuntime } from './rooms/room-runtime.js';
export { LagCompensation } from './netcode/lag-compensation.js';
export type { LagCompensationOptions, Rewound } from './netcode/lag-compensation.js';
export { staticFiles } from './static-files.js';
export type { StaticHandler } from './static-files.js';
export type { ServerLoad } from './server-load.js';
