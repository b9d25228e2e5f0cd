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
 *  - hardening the signaling (each asked of the transport through the options): every request spends
 *    one of its source's tokens first (allowRequest; 429 when out); only geckos' exact routes reach it
 *    (anything else gets 404 here, so geckos' loose URL matching never sees odd paths); each offer is
 *    admitted before geckos creates anything (admit: a pending slot, or the status to refuse with); the
 *    slot travels with the connection it makes (as geckos' userData, under a symbol key, so the client
 *    never sees it) and comes back once the offer request is answered (offerSettled), so a slot is never
 *    lost when geckos fails to make the connection.
 *  - the answer (POST …/remote-description) is taken here, not by geckos: geckos parses it unbounded,
 *    answers 500 to malformed JSON, goes on after its own 400, and hands every candidate in the SDP to
 *    libdatachannel. Here the body is bounded, the answer checked (`type: 'answer'`, a string SDP, one
 *    accepted per connection: 409 after it), its candidates filtered (webrtc-candidates.ts) and the result
 *    set on the peer connection (400 with libdatachannel's reason if it refuses it).
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

import { randomInt } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, OutgoingMessage, Server, ServerResponse } from 'node:http';
import geckos, { type GeckosServer } from '@geckos.io/server';
import { pathOf } from '../http-host.js';
import type { WebRtcIceServer } from './webrtc.js';
import { filterRemoteCandidates } from './webrtc-candidates.js';
import { answer, readBody } from './webrtc-http.js';
import { requestSource } from '../source-address.js';

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

/** geckos' connection ids: 24 alphanumerics. */
const ID = '[0-9a-zA-Z]{24}';
const ID_SYMBOLS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** A connection id in geckos' form (24 alphanumerics), from the CSPRNG. */
function secureId(): string {
  let id = '';
  for (let i = 0; i < 24; i++) id += ID_SYMBOLS[randomInt(ID_SYMBOLS.length)];
  return id;
}
/** The routes geckos serves (request URL, query strings included, must match exactly), by method. */
const GECKOS_ROUTES: Record<string, RegExp[]> = {
  POST: [new RegExp(`^${WEBRTC_SIGNALING_PATH}/connections$`), new RegExp(`^${WEBRTC_SIGNALING_PATH}/connections/${ID}/close$`)],
  GET: [new RegExp(`^${WEBRTC_SIGNALING_PATH}/connections/${ID}/additional-candidates$`)],
};
/** CORS preflights go to geckos (it answers them) for any of its paths, remote-description included. */
const PREFLIGHT = new RegExp(`^${WEBRTC_SIGNALING_PATH}/connections(/${ID}/(remote-description|additional-candidates|close))?$`);
/** The answer route, taken here (see the file comment). */
const REMOTE_DESCRIPTION = new RegExp(`^${WEBRTC_SIGNALING_PATH}/connections/(${ID})/remote-description$`);

/** Where the pending slot of an offer rides on the connection geckos makes for it (geckos' userData). */
const TICKET = Symbol('volley.webrtc.ticket');

export interface GeckosAdapterOptions<T extends object> {
  iceServers: readonly WebRtcIceServer[];
  bindAddress: string;
  multiplex: boolean;
  portRange?: { min: number; max: number };
  /** Asked first for every signaling request, with its source address: false answers 429. */
  allowRequest: (source: string) => boolean;
  /**
   * Asked before geckos creates each peer connection: a ticket (the offer's pending slot) to go on, or
   * the HTTP status to refuse with.
   */
  admit: (source: string) => T | number;
  /** The offer request that `ticket` admitted has been answered (its connection, if any, was handed over first). */
  offerSettled: (ticket: T) => void;
  /**
   * Each connection geckos creates, once, with its data channel, its peer connection and the ticket
   * its offer was admitted with (a connection lacking a channel or peer connection is closed instead).
   */
  onConnection: (id: string, conn: GeckosConnection, dc: NativeDataChannel, pc: NativePeerConnection, ticket: T | undefined) => void;
  /** Most remote candidates kept from a connection's answer. */
  maxRemoteCandidates: number;
  /** What the answer filter kept and dropped, per answer. */
  onCandidates: (accepted: number, dropped: number) => void;
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
export class GeckosAdapter<T extends object> {
  private readonly io: GeckosServer;
  private readonly router: { active: RequestListener | undefined };
  private readonly onRequest: RequestListener;
  private running = true;
  /** Connections already handed over (or closed): each one is, once. */
  private readonly seen = new WeakSet<GeckosConnection>();
  /** Connections that took an answer (one each). */
  private readonly answered = new WeakSet<GeckosConnection>();
  /** Remote candidates a connection may still be given (maxRemoteCandidates in all). */
  private readonly candidateBudget = new WeakMap<GeckosConnection, number>();
  /** The ticket each admitted offer request got, until it is answered. */
  private readonly tickets = new WeakMap<IncomingMessage, T>();

  /** Starts answering /.wrtc/v2/* on `server`; throws if another adapter is running there. */
  constructor(
    server: Server,
    private readonly options: GeckosAdapterOptions<T>,
  ) {
    const router = routerFor(server);
    if (router.active) throw new Error('webrtc: another webrtc transport is running on this HTTP server');
    const geckosOptions: GeckosOptions = {
      iceServers: toGeckosIceServers(options.iceServers),
      bindAddress: options.bindAddress,
      multiplex: options.multiplex,
      ordered: false,
      maxRetransmits: 0,
      // Called by geckos before it creates each peer connection; what it returns (unless a status) becomes
      // the connection's userData, which geckos also sends to the client as JSON: the symbol key is not.
      authorization: async (_auth: string | undefined, req: IncomingMessage, res: OutgoingMessage) => {
        const verdict = options.admit(requestSource(req));
        if (typeof verdict === 'number') {
          res.setHeader('retry-after', '1');
          return verdict;
        }
        this.tickets.set(req, verdict);
        return { [TICKET]: verdict };
      },
    };
    // geckos clamps portRange in place: give it a copy.
    if (options.portRange) geckosOptions.portRange = { min: options.portRange.min, max: options.portRange.max };
    const io = geckos(geckosOptions);
    // A connection's id is what every later signaling request (answer, candidates, close) names it by, so it must
    // not be guessable: geckos makes it with Math.random; ours come from the system's CSPRNG (24 of 62 symbols,
    // ~143 bits, the form geckos' clients and our routes expect).
    const manager = io.connectionsManager as unknown as { createId: () => string; connections: Map<string, unknown> };
    manager.createId = () => {
      let id = secureId();
      while (manager.connections.has(id)) id = secureId();
      return id;
    };

    // geckos' HTTP routes, on a stand-in emitter rather than the real server (see the file comment).
    const standIn = new EventEmitter();
    io.addServer(standIn as unknown as Server);
    const geckosHandler = standIn.listeners('request')[0] as RequestListener | undefined;
    if (!geckosHandler) throw new Error('webrtc: unsupported @geckos.io/server version (no request handler)');

    this.io = io;
    this.router = router;
    this.onRequest = (req, res) => {
      if (!options.allowRequest(requestSource(req))) {
        answer(req, res, 429, 'too many signaling requests', { close: true, headers: { 'retry-after': '1' } });
        return;
      }
      const url = req.url ?? '';
      const method = req.method ?? '';
      const rd = method === 'POST' ? REMOTE_DESCRIPTION.exec(url) : null;
      if (rd) {
        void this.remoteDescription(req, res, rd[1]!).catch(() => answer(req, res, 500, 'internal error', { close: true }));
        return;
      }
      const forGeckos = method === 'OPTIONS' ? PREFLIGHT.test(url) : (GECKOS_ROUTES[method] ?? []).some((r) => r.test(url));
      if (!forGeckos) {
        answer(req, res, 404, 'not found', { close: true });
        return;
      }
      let handled: unknown;
      try {
        handled = geckosHandler.call(standIn, req, res);
      } catch (e) {
        handled = Promise.reject(e);
      }
      // geckos' remaining routes take no body; one sent anyway is read (and dropped) up to the cap, then
      // the request is cut. Counted after geckos has attached any listeners of its own (a 'data' listener
      // starts the flow at the next tick).
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
          const ticket = this.tickets.get(req);
          if (ticket) {
            this.tickets.delete(req);
            options.offerSettled(ticket);
          }
        });
    };
    router.active = this.onRequest;
  }

  /** POST …/connections/{id}/remote-description: the client's answer, checked and its candidates filtered. */
  private async remoteDescription(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const body = await readBody(req, MAX_SIGNALING_BODY);
    if (body === 'aborted') return;
    if (body === 'too-large') return void req.socket.destroy(); // cut off, as every signaling body over the cap
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return answer(req, res, 400, 'the answer is not JSON');
    }
    const desc = parsed as { type?: unknown; sdp?: unknown } | null;
    if (typeof desc !== 'object' || desc === null || desc.type !== 'answer' || typeof desc.sdp !== 'string') {
      return answer(req, res, 400, 'expected { "type": "answer", "sdp": string }');
    }
    const conn = this.running ? this.io.connectionsManager.getConnection(id) : undefined;
    const pc = conn?.peerConnection as NativePeerConnection | null | undefined;
    if (!conn || !pc) return answer(req, res, 404, 'unknown connection');
    if (this.answered.has(conn)) return answer(req, res, 409, 'this connection already has an answer');
    // An answer libdatachannel refuses may be followed by a good one; the candidate budget is per
    // connection all the same, whatever a refused answer may have left behind.
    const budget = this.candidateBudget.get(conn) ?? this.options.maxRemoteCandidates;
    const filtered = filterRemoteCandidates(desc.sdp, budget);
    this.candidateBudget.set(conn, budget - filtered.accepted);
    this.options.onCandidates(filtered.accepted, filtered.dropped);
    try {
      pc.setRemoteDescription(filtered.sdp, 'answer');
      this.answered.add(conn);
    } catch (e) {
      return answer(req, res, 400, `bad answer: ${(e as Error)?.message || String(e)}`.slice(0, 300));
    }
    answer(req, res, 200, 'OK');
  }

  /** Hands over (onConnection) every connection geckos created since last time. */
  adoptNew(): void {
    if (!this.running) return;
    for (const [id, conn] of this.io.connectionsManager.connections) {
      if (id === undefined || this.seen.has(conn)) continue;
      this.seen.add(conn);
      const dc = conn.channel?.dataChannel;
      const pc = conn.peerConnection;
      const ticket = (conn.userData as Record<symbol, T | undefined> | undefined)?.[TICKET];
      if (!dc || !pc) {
        void closeConnection(conn);
        continue;
      }
      this.options.onConnection(id, conn, dc, pc, ticket);
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
