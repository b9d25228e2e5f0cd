/**
 * The geckos.io adapter of the WebRTC transport: everything that reaches into @geckos.io/server 3.1.0 (on
 * node-datachannel/libdatachannel). webrtc.ts runs the links; this file makes geckos create them.
 *
 * geckos does the signaling routes — POST /.wrtc/v2/connections (the server makes the offer), POST
 * …/:id/remote-description, GET …/:id/additional-candidates, POST …/:id/close — and creates / closes /
 * forgets the peer connections. What this adapter does around it:
 *  - the HTTP side: `io.addServer(httpServer)` wraps the server's request listeners for good and, when
 *    that server closes, calls node-datachannel's process-wide cleanup() (killing every peer connection
 *    in the process, Node clients included). geckos gets a private stand-in emitter instead; one
 *    listener per HTTP server (the router) forwards /.wrtc/v2/* to geckos' handler while an adapter runs
 *    and answers 503 otherwise. Signaling bodies are cut off past 64 KiB (geckos reads them unbounded).
 *  - handing over each connection geckos creates (onConnection), right after its offer request is
 *    answered — before the client can have answered, so the transport can take over its callbacks before
 *    any event. geckos' own open handler dereferences `channel.dataChannel`, which its close() sets to
 *    null: a connection closed while its open event is queued (a client closing at once, stop()) threw
 *    inside a native callback and aborted the whole process (measured).
 *  - closing connections through geckos' own close, never rejecting; a connection made after stop() (its
 *    offer was still being created) is closed as soon as geckos is done with it.
 *
 * Media (UDP): one socket shared by all peers when `multiplex` is on, on `bindAddress`, in `portRange`.
 */

import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import geckos, { type GeckosServer } from '@geckos.io/server';
import { pathOf } from '../http-host.js';
import type { WebRtcIceServer } from './webrtc.js';

/** Where geckos.io's signaling routes live on the HTTP port (fixed by geckos). */
export const WEBRTC_SIGNALING_PATH = '/.wrtc/v2';

type GeckosOptions = NonNullable<Parameters<typeof geckos>[0]>;
/** One peer connection as geckos keeps it. */
export type GeckosConnection = GeckosServer['connectionsManager']['connections'] extends Map<unknown, infer C> ? C : never;
/** node-datachannel's DataChannel, as geckos created it. */
export type NativeDataChannel = GeckosConnection['channel']['dataChannel'];
/** node-datachannel's PeerConnection, as geckos created it. */
export type NativePeerConnection = GeckosConnection['peerConnection'];
type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** Largest signaling request body accepted; a client sending more is cut off. */
const MAX_SIGNALING_BODY = 64 * 1024;

export interface GeckosAdapterOptions {
  iceServers: readonly WebRtcIceServer[];
  bindAddress: string;
  multiplex: boolean;
  portRange?: { min: number; max: number };
  /** Asked before geckos creates each peer connection: true to go on, or the HTTP status to refuse with. */
  admit: () => true | number;
  /**
   * Each connection geckos creates, once, with its data channel and peer connection (a connection
   * lacking either is closed instead).
   */
  onConnection: (id: string, conn: GeckosConnection, dc: NativeDataChannel, pc: NativePeerConnection) => void;
}

/**
 * One request listener per HTTP server, for the process's lifetime: it hands /.wrtc/* to the adapter
 * running on that server, or answers 503 when none is (HttpHost leaves /.wrtc/* to us, so a request
 * nobody answered — e.g. a client's close POST arriving after stop() — would hang until the request
 * timeout and hold server.close() up with it).
 */
const routers = new WeakMap<Server, { active: RequestListener | undefined }>();

function routerFor(server: Server): { active: RequestListener | undefined } {
  const known = routers.get(server);
  if (known) return known;
  const router: { active: RequestListener | undefined } = { active: undefined };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!pathOf(req).startsWith('/.wrtc/')) return; // HttpHost answers everything else
    if (router.active) router.active(req, res);
    else res.writeHead(503, { 'content-type': 'text/plain' }).end('webrtc transport not running\n');
  });
  routers.set(server, router);
  return router;
}

/** A geckos instance answering signaling on one HTTP server, from construction until stop(). */
export class GeckosAdapter {
  private readonly io: GeckosServer;
  private readonly router: { active: RequestListener | undefined };
  private readonly onRequest: RequestListener;
  private running = true;
  /** Connections already handed over (or closed): each one is, once. */
  private readonly seen = new WeakSet<GeckosConnection>();

  /** Starts answering /.wrtc/v2/* on `server`; throws if another adapter is running there. */
  constructor(
    server: Server,
    private readonly options: GeckosAdapterOptions,
  ) {
    const router = routerFor(server);
    if (router.active) throw new Error('webrtc: another webrtc transport is running on this HTTP server');
    const geckosOptions: GeckosOptions = {
      iceServers: toGeckosIceServers(options.iceServers),
      bindAddress: options.bindAddress,
      multiplex: options.multiplex,
      ordered: false,
      maxRetransmits: 0,
      // Called by geckos before it creates each peer connection.
      authorization: async () => options.admit(),
    };
    // geckos clamps portRange in place: give it a copy.
    if (options.portRange) geckosOptions.portRange = { min: options.portRange.min, max: options.portRange.max };
    const io = geckos(geckosOptions);

    // geckos' HTTP routes, on a stand-in emitter rather than the real server (see the file comment).
    const standIn = new EventEmitter();
    io.addServer(standIn as unknown as Server);
    const geckosHandler = standIn.listeners('request')[0] as RequestListener | undefined;
    if (!geckosHandler) throw new Error('webrtc: unsupported @geckos.io/server version (no request handler)');

    this.io = io;
    this.router = router;
    this.onRequest = (req, res) => {
      if (!pathOf(req).startsWith(`${WEBRTC_SIGNALING_PATH}/`)) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      let handled: unknown;
      try {
        handled = geckosHandler.call(standIn, req, res);
      } catch (e) {
        handled = Promise.reject(e);
      }
      // geckos reads JSON bodies (the SDP answer, ~1–2 KB) with no size limit. Counted after geckos has
      // attached its own listeners (a 'data' listener starts the flow at the next tick).
      let bodyBytes = 0;
      req.on('data', (chunk: Buffer) => {
        bodyBytes += chunk.length;
        if (bodyBytes > MAX_SIGNALING_BODY) req.destroy();
      });
      Promise.resolve(handled)
        .catch(() => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end();
        })
        // A new connection is in geckos' map by the time its offer is sent: hand it over now (or, if we
        // stopped while geckos was still creating it, close it).
        .finally(() => {
          if (this.running) this.adoptNew();
          else for (const conn of this.io.connectionsManager.connections.values()) void closeConnection(conn);
        });
    };
    router.active = this.onRequest;
  }

  /** Hands over (onConnection) every connection geckos created since last time. */
  adoptNew(): void {
    if (!this.running) return;
    for (const [id, conn] of this.io.connectionsManager.connections) {
      if (id === undefined || this.seen.has(conn)) continue;
      this.seen.add(conn);
      const dc = conn.channel?.dataChannel;
      const pc = conn.peerConnection;
      if (!dc || !pc) {
        void closeConnection(conn);
        continue;
      }
      this.options.onConnection(id, conn, dc, pc);
    }
  }

  /**
   * Stops answering signaling (the router answers 503 from now on) and closes every connection geckos
   * has; resolves once they are closed. The shared UDP socket goes with the last peer connection.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.router.active === this.onRequest) this.router.active = undefined;
    await Promise.all([...this.io.connectionsManager.connections.values()].map(closeConnection));
  }
}

/** geckos' own close (data channel, peer connection, forget the id), never rejecting. */
export async function closeConnection(conn: GeckosConnection): Promise<void> {
  try {
    await conn.close();
  } catch {
    // already closed
  }
}

/** Flattens urls and folds username/credential into turn(s): URLs for libdatachannel. */
function toGeckosIceServers(servers: readonly WebRtcIceServer[]): { urls: string }[] {
  const out: { urls: string }[] = [];
  for (const s of servers) {
    for (const url of Array.isArray(s.urls) ? s.urls : [s.urls]) {
      const m = /^(turns?):(?!\/\/)(.*)$/.exec(url);
      if (m && s.username !== undefined && !m[2]!.includes('@')) {
        const user = encodeURIComponent(s.username);
        const pass = encodeURIComponent(s.credential ?? '');
        out.push({ urls: `${m[1]}:${user}:${pass}@${m[2]}` });
      } else {
        out.push({ urls: url });
      }
    }
  }
  return out;
}
