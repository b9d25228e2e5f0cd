/**
 * One HTTP port for everything: routes by path to the transports (polling routes, WebSocket upgrade) and to
 * the core (GET /volley/info). geckos.io adds its own signaling routes (/.wrtc/v2/…) on top of ours. Anything
 * unrouted gets 404 (an upgrade too, as a status line); an exception in a handler gets 500, never a crash.
 *
 * The port faces hostile clients, so the host also limits what a client can hold (docs/transports.md,
 * "HTTP limits"): request bodies (413 past a route's cap, and the unread rest of a body is drained only up to that cap), the time
 * to send a request (headersTimeout, requestTimeout), and concurrent TCP connections, in total and per source
 * address (refused on 'connection', counted in `counters`).
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { sourceOf } from './source-address.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpHostOptions {
  /** Time a client has to send the request headers, in ms. Default 10 000. 0 disables it. */
  headersTimeout?: number;
  /** Time a client has to send the whole request (headers and body), in ms; not the response. Default 15 000. */
  requestTimeout?: number;
  /** An idle keep-alive connection is closed after this many ms. Default 5000. */
  keepAliveTimeout?: number;
  /** Concurrent TCP connections to the port (WebSocket links included); more are refused. Default 10 000. */
  maxConnections?: number;
  /** Concurrent TCP connections from one source address (a NAT may hide many players). Default 256. */
  maxConnectionsPerSource?: number;
  /** Largest request body a route accepts unless it sets its own. Default 1 KiB. */
  maxBodyBytes?: number;
}

export interface RouteOptions {
  /** Match the path exactly. Otherwise the route takes the path itself and anything below it (`path/…`). */
  exact?: boolean;
  /** Largest declared body (Content-Length) accepted; larger gets 413 unread. Default the host's maxBodyBytes. */
  maxBodyBytes?: number;
}

/** What the host refused, for monitoring. */
export interface HttpHostCounters {
  /** Connections refused because the port had maxConnections open. */
  refusedTotal: number;
  /** Connections refused because their source address had maxConnectionsPerSource open. */
  refusedPerSource: number;
  /** Requests answered 413 because of their declared body size. */
  bodyTooLarge: number;
}

interface Route {
  path: string;
  exact: boolean;
  maxBodyBytes: number;
  handler: RequestHandler;
}

/** Node's own defaults: a timeout still at one of these was not chosen by whoever created the server. */
const NODE_DEFAULTS = { headersTimeout: 60_000, requestTimeout: 300_000, keepAliveTimeout: 5000, checkEvery: 30_000 };
/** How long a client has to read a refusal before its socket is cut (instead of reading the rest of its body). */
const REFUSAL_GRACE_MS = 50;

export class HttpHost {
  private readonly routes: Route[] = [];
  private readonly upgrades: { path: string; handler: UpgradeHandler }[] = [];
  private readonly maxBodyBytes: number;
  private readonly maxConnections: number;
  private readonly maxConnectionsPerSource: number;
  private readonly perSource = new Map<string, number>();
  private open = 0;
  readonly counters: HttpHostCounters = { refusedTotal: 0, refusedPerSource: 0, bodyTooLarge: 0 };
  /** Called for requests no route takes (e.g. an application's own pages), before the 404. It reads its own bodies. */
  fallback: RequestHandler | undefined;

  constructor(
    readonly server: Server,
    options: HttpHostOptions = {},
  ) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1024;
    this.maxConnections = options.maxConnections ?? 10_000;
    this.maxConnectionsPerSource = options.maxConnectionsPerSource ?? 256;
    applyTimeouts(server, options);
    server.on('connection', (socket: Socket) => this.admit(socket));
    server.on('request', (req, res) => void this.dispatch(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = pathOf(req);
      const u = this.upgrades.find((r) => matches(path, r.path, false));
      if (u) u.handler(req, socket, head);
      else notFoundUpgrade(socket);
    });
  }

  /** Connections open on the port now. */
  get connections(): number {
    return this.open;
  }

  /** Routes `path` (and, unless `exact`, everything below it: `path/…`) to `handler`. First registered wins. */
  route(path: string, handler: RequestHandler, options: RouteOptions = {}): void {
    this.routes.push({
      path: trimSlash(path),
      exact: options.exact ?? false,
      maxBodyBytes: options.maxBodyBytes ?? this.maxBodyBytes,
      handler,
    });
  }

  /** Routes upgrade requests for `path` (and `path/…`) to `handler`; any other upgrade gets 404. */
  upgrade(path: string, handler: UpgradeHandler): void {
    this.upgrades.push({ path: trimSlash(path), handler });
  }

  private admit(socket: Socket): void {
    const source = sourceOf(socket.remoteAddress ?? '') ?? 'unknown'; // IPv6 by /64, like every per-source limit
    const fromSource = this.perSource.get(source) ?? 0;
    if (this.open >= this.maxConnections || fromSource >= this.maxConnectionsPerSource) {
      if (this.open >= this.maxConnections) this.counters.refusedTotal++;
      else this.counters.refusedPerSource++;
      socket.destroy();
      return;
    }
    this.open++;
    this.perSource.set(source, fromSource + 1);
    socket.once('close', () => {
      this.open--;
      const left = (this.perSource.get(source) ?? 1) - 1;
      if (left > 0) this.perSource.set(source, left);
      else this.perSource.delete(source);
    });
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    if (path.startsWith('/.wrtc/')) return; // geckos.io answers its own routes (with its own body cap)
    try {
      const r = this.routes.find((route) => matches(path, route.path, route.exact));
      if (!r && this.fallback) return await this.fallback(req, res, path);
      const limit = r?.maxBodyBytes ?? this.maxBodyBytes;
      if (declaredLength(req) > limit) {
        this.counters.bodyTooLarge++;
        return refuseBody(req, res, limit);
      }
      // Node reads (and discards) what is left of a body after the answer, to keep the connection: up to the cap.
      res.once('finish', () => {
        if (!req.complete) capDrain(req, limit);
      });
      if (r) return await r.handler(req, res, path);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(e as Error).message}\n`);
    }
  }
}

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** `exact`: the path itself; otherwise the path itself or anything below it (so /volley/infox is not /volley/info). */
function matches(path: string, route: string, exact: boolean): boolean {
  if (path === route) return true;
  return !exact && path.startsWith(`${route}/`);
}

function trimSlash(path: string): string {
  return path.replace(/\/+$/, '');
}

/** Our defaults apply where the server still has Node's own (a server configured by its owner keeps its values). */
function applyTimeouts(server: Server, o: HttpHostOptions): void {
  const headers = o.headersTimeout ?? (server.headersTimeout === NODE_DEFAULTS.headersTimeout ? 10_000 : undefined);
  const request = o.requestTimeout ?? (server.requestTimeout === NODE_DEFAULTS.requestTimeout ? 15_000 : undefined);
  if (headers !== undefined) server.headersTimeout = headers;
  if (request !== undefined) server.requestTimeout = request;
  if (o.keepAliveTimeout !== undefined) server.keepAliveTimeout = o.keepAliveTimeout;
  // Node checks these timeouts every connectionsCheckingInterval (30 s by default, read when the server starts
  // listening): check often enough that a 15 s timeout means 15 s, not up to 45.
  const tracked = server as Server & { connectionsCheckingInterval: number };
  const shortest = Math.min(...[server.headersTimeout, server.requestTimeout].filter((t) => t > 0));
  if (tracked.connectionsCheckingInterval === NODE_DEFAULTS.checkEvery && Number.isFinite(shortest)) {
    tracked.connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(shortest / 4)));
  }
}

function declaredLength(req: IncomingMessage): number {
  const n = Number(req.headers['content-length'] ?? 0);
  return Number.isFinite(n) ? n : Infinity;
}

/** 413 with Connection: close; the body is not read, the socket is cut after the answer. */
function refuseBody(req: IncomingMessage, res: ServerResponse, limit: number): void {
  const body = `body larger than ${limit} bytes\n`;
  res.shouldKeepAlive = false;
  res.writeHead(413, {
    connection: 'close',
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'access-control-allow-origin': '*',
  });
  res.end(body, () => stopReading(req.socket));
}

/** Lets Node drain the rest of an unread body up to `max` bytes (a small body keeps its connection); past that, cuts. */
function capDrain(req: IncomingMessage, max: number): void {
  let drained = 0;
  const onData = (chunk: Buffer): void => {
    drained += chunk.byteLength;
    if (drained <= max) return;
    req.off('data', onData);
    stopReading(req.socket);
  };
  req.on('data', onData);
  req.once('end', () => req.off('data', onData));
}

/**
 * Stops reading a socket whose request body is unwanted, then cuts it once the client had a moment to read
 * the answer. Node would otherwise read (and discard) the rest of the body, however large, to keep the
 * connection alive; it resumes the socket for that on the next tick, hence the second pause.
 */
function stopReading(socket: Socket): void {
  socket.pause();
  setImmediate(() => socket.pause());
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}

/** 404 as a status line on the raw socket, then the socket is ended (and cut if the client keeps it open). */
function notFoundUpgrade(socket: Duplex): void {
  const body = 'not found\n';
  socket.on('error', () => {});
  socket.end(
    'HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Type: text/plain\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), REFUSAL_GRACE_MS).unref();
}
