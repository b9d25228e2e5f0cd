/** What a room server of the rooms benchmark is to the process that runs it (colyseus-server.ts, volley-server.ts). */

import type { Server as HttpServer } from 'node:http';
import type { ServerMeter } from './server-meter.js';

export type ServerKind = 'colyseus' | 'volley' | 'bare-ws';

export interface BenchServer {
  /** What a bot connects to: a ws:// URL (Colyseus, bare ws), the http:// URL of Volley. */
  url: string;
  /** Clients in the room now. */
  clients(): number;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 (a free port) on `http`, with one room type whose room reports to `meter`. */
export type StartServer = (http: HttpServer, meter: () => ServerMeter) => Promise<BenchServer>;
