/**
 * What the benchmark and its relay process (relay-process.ts) tell each other over IPC: the emulated path
 * to build (links, and the relays that use them), the ports it listens on, and its counters.
 */

import type { LatencySummary } from './latency.js';

/** One direction of an emulated path (emulated-link.ts). */
export interface LinkSpec {
  /** One-way propagation delay, ms, added to every packet (or TCP segment) after it has left the queue. */
  delayMs: number;
  /** Link rate in bits per second of IP bytes (datagram + 28, TCP segment + 52); absent: no rate limit, no queue. */
  rateBitsPerSecond?: number;
  /** Tail-drop queue: bytes accepted whose last bit has not left the link yet; absent: unbounded. */
  queueBytes?: number;
}

/** A relay: listens on 127.0.0.1 (a free port), forwards to 127.0.0.1:targetPort through two named links. */
export interface RelayDef {
  /** Also the flow's name in the links' counters. */
  name: string;
  kind: 'udp' | 'tcp';
  targetPort: number;
  /** Link the client's traffic takes (client → target), and the link back. */
  up: string;
  down: string;
}

export interface RelaySpec {
  links: Record<string, LinkSpec>;
  relays: RelayDef[];
}

/** What one flow (relay) put through one link. */
export interface FlowStats {
  /** Packets (UDP datagrams, or TCP segments as the relay cut them) offered to the link, and their IP bytes. */
  packets: number;
  bytes: number;
  /** Of those, tail-dropped (UDP only: a TCP segment waits for room instead, see tcp-relay.ts). */
  dropped: number;
  droppedBytes: number;
  /** Time from arrival to the last bit leaving the link (queue wait + serialization), ms. */
  queueDelay: LatencySummary | null;
  /** TCP only: times the relay stopped reading its source because the queue had no room (back-pressure). */
  stalls: number;
}

export interface LinkStats {
  spec: LinkSpec;
  flows: Record<string, FlowStats>;
  /** Largest backlog seen, bytes. */
  maxBacklogBytes: number;
  /** How late the relay's timers delivered packets after their due time, ms (the emulation's own error). */
  lateness: LatencySummary | null;
}

export interface RelayStats {
  links: Record<string, LinkStats>;
  /** Per relay: client connections (TCP) or client addresses (UDP) seen. */
  peers: Record<string, number>;
}

export type ToRelay = { type: 'start'; spec: RelaySpec } | { type: 'stats' } | { type: 'stop' };

export type FromRelay =
  | { type: 'ready'; ports: Record<string, number> }
  | { type: 'stats'; stats: RelayStats }
  | { type: 'stopped'; stats: RelayStats }
  | { type: 'error'; message: string };
