/**
 * @volley/protocol — the sans-I/O reliable-UDP core of Volley.
 * Start with `Connection` (connection.ts); test with `LinkSimulator` + `Simulation`.
 */

export { Connection } from './connection.js';
export type { ConnectionEvent, ConnectionRole, ConnectionState } from './connection.js';
export { HOST_MAX_ACK_DELAY, type ConnectionOptions } from './connection-options.js';
export type { ChannelStats, ConnectionStats } from './connection-stats.js';
export type { CongestionStats, CongestionState } from './congestion-controller.js';
export { CHANNEL_KINDS, DEFAULT_CHANNELS, DEFAULT_MAX_QUEUED_BYTES, isReliable } from './channel-config.js';
export type { ChannelConfig, ChannelKind, ChannelOptions } from './channel-config.js';
export { ConfigError, SendError, StateError } from './errors.js';
export type { SendErrorCode } from './errors.js';
export { DisconnectReason, reasonName } from './reason.js';
export type { TraceEvent, TraceListener, TraceRecord, LossReason, DropReason } from './trace.js';

// Wire format (for tools, transports and tests).
export { decodeHeader, encodeHeader, headerSize, packetKindOf, PacketKind, MAX_HEADER_SIZE, MIN_HEADER_SIZE } from './header.js';
export type { AckInfo, PacketHeader } from './header.js';
export { decodeRecords, encodeRecords, recordSize, CONTROL_CHANNEL, MAX_CHANNELS } from './record.js';
export type { MessageRecord, FragmentInfo, ChannelIdMode } from './record.js';
export { decodeControl, encodeControl, PROTOCOL_VERSION, MAX_CONNECT_PAYLOAD, ACCEPT_SIZE } from './control.js';
export { decodeControlRecord, encodePing, encodePong, PING_SIZE, PONG_SIZE } from './control-record.js';
export type { ControlRecord } from './control-record.js';
export { Timer, TIMER_NAMES } from './timer-table.js';
export type { ControlPacket } from './control.js';
export { DecodeError } from './bytes.js';
export { inspectPacket } from './inspect.js';
export type { PacketSummary } from './inspect.js';
export * from './sequence.js';

// Measurement building blocks.
export { RttEstimator } from './rtt-estimator.js';
export { SampleWindow } from './sample-window.js';
export type { SampleSummary } from './sample-window.js';
export { PingTracker, PingResponder } from './ping.js';
export type { Ping, Pong, PingStats, ExternalSample } from './ping.js';

// Simulation (deterministic tests of games and of the protocol itself).
export { Random, randomBytes } from './random.js';
export type { RandomSource } from './random.js';
export { LinkSimulator, dropFirstMatching, dropIndices } from './link-simulator.js';
export type {
  LinkConditions,
  LinkDirection,
  LinkDirectionStats,
  LinkEvent,
  LinkOptions,
  DropRule,
  DatagramInfo,
} from './link-simulator.js';
export { Simulation } from './simulation.js';
export type { SimEndpoint, SimulationOptions } from './simulation.js';
export { ConnectionPair } from './connection-pair.js';
export type { ConnectionPairOptions } from './connection-pair.js';

// For the SDKs (client and server).
export { encodeEnvelope, decodeEnvelope } from './envelope.js';
export type { Envelope } from './envelope.js';
export { STANDARD_CHANNELS, channelIndex } from './standard-channels.js';
export type { ChannelChoice } from './standard-channels.js';
export { encodeRejectFor, MIN_CONNECT_SIZE, SESSION_TOKEN_SIZE } from './control.js';
export { encodeBatch, parseBatch } from './datagram-batch.js';

// Endpoints: the life of sessions above links (server) and paths (client), sans-I/O.
export { ServerEndpoint, EndpointSession, SERVER_ENDPOINT_DEFAULTS, MAX_LINKS_PER_SESSION } from './server-endpoint.js';
export { TokenBucket } from './token-bucket.js';
export { DatagramBudget, BURST_SECONDS } from './datagram-budget.js';
export type { DatagramRates } from './datagram-budget.js';
export type { ServerEndpointOptions, ServerEndpointEvent, ServerEndpointCounters, Transmit } from './server-endpoint.js';
export { ClientEndpoint } from './client-endpoint.js';
export type { ClientEndpointOptions, ClientEndpointEvent, PathTransmit } from './client-endpoint.js';
export { constantTimeEqual } from './constant-time.js';
export { DeadlineQueue } from './deadline-queue.js';
export { TimeHeap } from './time-heap.js';
export { RunLoop } from './run-loop.js';
export type { LoopTimers } from './run-loop.js';
export { encodeMessage, decodeMessage, encodeValue, decodeValue } from './message.js';
export type { Message } from './message.js';
export { TRANSPORT_KINDS, isReliableTransport } from './transport-kind.js';
export type { TransportKind } from './transport-kind.js';
export { Emitter } from './emitter.js';
export type { Unsubscribe } from './emitter.js';
export { MessageRouter } from './message-router.js';
export type { RouteResult } from './message-router.js';
export { checkMessagePack, DEFAULT_MAX_DEPTH } from './msgpack-bounds.js';

// Rooms on the wire (docs/protocol.md §9).
export {
  ROOM_FLAG,
  RoomOp,
  JOIN_METHODS,
  JoinErrorCode,
  LeaveCode,
  ROOM_LIMITS,
  isRoomFrame,
  encodeRoomFrame,
  decodeRoomFrame,
} from './room-frame.js';
export type { RoomFrame, JoinMethod, RedirectMethod } from './room-frame.js';
export { stateDigest, metadataKey } from './state-digest.js';
export { varintSize, writeVarint, readVarint, MAX_VARINT_SIZE } from './varint.js';

// Netcode building blocks shared by client and server (docs/netcode.md).
export { SnapshotBuffer } from './netcode/snapshot-buffer.js';
export type { Interpolate, SampleInfo } from './netcode/snapshot-buffer.js';
export { lerp, lerpAngle } from './netcode/lerp.js';
