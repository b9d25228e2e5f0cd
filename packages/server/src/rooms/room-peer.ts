/**
 * What the room layer needs of a session: who it is, and how to send it a frame. The server's Session is
 * one (server.ts adapts it); @volley/testing's simulated sessions are another.
 */

export interface RoomPeer {
  /** The session's id. */
  readonly id: number;
  /** What the server's onAuth returned for the session. */
  readonly user: unknown;
  /** The transport it is on now ('udp', 'webrtc', 'websocket', 'polling', or a test's own), if any. */
  readonly transport: string | undefined;
  /** Its address, for logs. */
  readonly remote: string;
  /**
   * Queues a protocol message on a channel: false, without an exception, when the session cannot hold it now
   * (back-pressure); throws SendError for the rest (closed, …). Only `false` means refused.
   */
  send(channel: number, bytes: Uint8Array): boolean;
  /** Smoothed round-trip time, ms. */
  rtt(): number;
}
