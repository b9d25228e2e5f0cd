/**
 * The server processes that share matchmaking (docs/scaling.md): who they are, where clients reach them, how
 * loaded they are, and the calls one makes to another (reserve a seat in a room there, create a room there).
 * Without a cluster a server is alone and every room is its own; `RedisCluster` (redis-cluster.ts) is the
 * shared one: heartbeats with expiry, so a process that dies drops out within `expiryMs`.
 */

import type { JoinErrorName } from '../rooms/join-error.js';

/** A server process as the others see it. */
export interface ProcessInfo {
  processId: string;
  /** Where clients reach it: its HTTP base URL (its `/volley/info` gives its UDP port and transports). */
  url: string;
  /** Rooms it runs, and its limit. */
  rooms: number;
  maxRooms: number;
  /** Sessions connected to it, and its limit. */
  clients: number;
  maxClients: number;
  /** Draining: it takes no new rooms and no new clients into its rooms; those it has run to their end. */
  draining: boolean;
}

/** What one process asks another to do for a join it is matchmaking. */
export type RemoteCall =
  /** Reserve a seat in room `roomId` there (`exact`: only that room, as joinById; else any open seat). */
  | { op: 'seat'; roomId: string; exact: boolean }
  /** Create a room of type `name` there with `options`, and reserve its first seat. */
  | { op: 'create'; name: string; options: unknown };

/** A call's answer; a new room's `seats` is its maxClients (when finite), what placement expects it to hold soon. */
export type RemoteReply =
  { ok: true; roomId: string; sessionId: string; seats?: number } | { ok: false; code: JoinErrorName; message: string };

export interface Cluster {
  /** This process's id (the listings' processId). */
  readonly processId: string;
  /**
   * Joins the cluster: from now on `self()` is published every heartbeat and calls from other processes are
   * answered by `answer`.
   */
  start(self: () => ProcessInfo, answer: (call: RemoteCall) => Promise<RemoteReply>): Promise<void>;
  /** The live processes, this one included, as of the last heartbeat. */
  processes(): readonly ProcessInfo[];
  /** A live process by id. */
  process(processId: string): ProcessInfo | undefined;
  /**
   * A room was just created in process `processId` for this one, to hold about `seats` clients soon: counted
   * in its load (a room, and those clients) until a heartbeat of it written after now says so itself, so
   * that creations racing its next heartbeat spread out instead of all going to the same process.
   */
  placed(processId: string, seats: number): void;
  /** Asks process `processId`; rejects when it does not answer within `timeoutMs`. */
  call(processId: string, call: RemoteCall, timeoutMs: number): Promise<RemoteReply>;
  /** Leaves the cluster (the others drop this process at once, not at expiry). */
  stop(): Promise<void>;
}
