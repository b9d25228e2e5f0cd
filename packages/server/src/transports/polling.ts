/**
 * HTTP long-polling transport, binary both ways (docs/transports.md):
 *
 *   POST {prefix}/open          → 200, body = 16-byte link key (the link goes to ctx.onLink); no request body
 *   GET  {prefix}/{keyhex}      → held until datagrams are queued (200 + batch) or holdMs passes (204)
 *   POST {prefix}/{keyhex}      → body = batch of datagrams → 204
 *   DELETE {prefix}/{keyhex}    → 204, the client is leaving (the link reports 'closed by client')
 *
 * A batch is repeated `u16 length (big-endian) | datagram`. Reliable and ordered: the client keeps one GET
 * and at most one POST outstanding, so both directions arrive in order.
 *
 * Misuse: unknown/expired key 404, second concurrent GET 409 (the first stays), body too large 413 (not
 * read further), malformed batch 400, wrong method 405 (with Allow), link closed by the server 410, transport
 * stopped 503. Every answer carries `Cache-Control: no-store` and `Access-Control-Allow-Origin: *`.
 */

import { encodeBatch, parseBatch } from '@volley/protocol';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TransportContext, TransportLink, TransportServer } from '../transport.js';

export interface PollingTransportOptions {
  /** Route prefix on the shared HTTP port. Default '/volley/poll'. */
  prefix?: string;
  /** How long a GET is held when nothing is queued, before 204. Default 20000 ms. */
  holdMs?: number;
  /** A link with no GET or POST for this long is closed ('poll abandoned'). Default holdMs + 10000 ms. */
  abandonMs?: number;
  /** Largest POST body accepted; larger gets 413. Default 256 KiB. */
  maxBodyBytes?: number;
  /** Server→client bytes queued per link before it is closed ('client not polling'). Default 1 MiB. */
  maxQueuedBytes?: number;
  /** Largest datagram accepted from a client; larger gets 413. Default ctx.mtu + 64. */
  maxDatagram?: number;
  /** Cap on one GET response body; the rest waits for the next poll. Default 64 KiB. */
  maxResponseBytes?: number;
  /** Clock (ms) for hold and abandon times; default Date.now. Tests inject their own. */
  clock?: () => number;
}

const KEY_BYTES = 16;
/** POST {prefix}/open takes no body; anything past this is refused (413) unread. */
const OPEN_MAX_BODY_BYTES = 1024;
const KEY_RE = /^\/([0-9a-f]{32})$/;

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'access-control-allow-origin': '*',
} as const;

export class PollingTransport implements TransportServer {
  readonly kind = 'polling' as const;
  readonly prefix: string;
  readonly holdMs: number;
  readonly abandonMs: number;
  readonly maxBodyBytes: number;
  readonly maxQueuedBytes: number;
  readonly maxResponseBytes: number;
  private readonly maxDatagramOption: number | undefined;
  private maxDatagram = 1200 + 64;
  private readonly links = new Map<string, PollingLink>();
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private running = false;
  /** @internal Read by the links too. */
  readonly clock: () => number;

  constructor(options: PollingTransportOptions = {}) {
    this.prefix = (options.prefix ?? '/volley/poll').replace(/\/+$/, '');
    this.holdMs = options.holdMs ?? 20_000;
    this.abandonMs = options.abandonMs ?? this.holdMs + 10_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 256 * 1024;
    this.maxQueuedBytes = options.maxQueuedBytes ?? 1 << 20;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.maxDatagramOption = options.maxDatagram;
    this.clock = options.clock ?? Date.now;
  }

  async start(ctx: TransportContext): Promise<void> {
    this.maxDatagram = Math.min(this.maxDatagramOption ?? ctx.mtu + 64, 0xffff);
    this.running = true;
    ctx.http.route(this.prefix, (req, res, path) => this.handle(ctx, req, res, path), { maxBodyBytes: this.maxBodyBytes });
    // One sweep for every link: ends held GETs (204) and reclaims abandoned links.
    const every = Math.max(10, Math.min(1000, Math.floor(Math.min(this.holdMs, this.abandonMs) / 4)));
    this.sweepTimer = setInterval(() => this.sweep(this.clock()), every);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const link of [...this.links.values()]) link.end(410, 'server stopping');
    this.links.clear();
  }

  info(): Record<string, unknown> {
    return { prefix: this.prefix, holdMs: this.holdMs };
  }

  /** @internal The link queue and hold bookkeeping call back here. */
  forget(link: PollingLink): void {
    if (this.links.get(link.key) === link) this.links.delete(link.key);
  }

  private sweep(now: number): void {
    for (const link of [...this.links.values()]) link.sweep(now);
  }

  private async handle(ctx: TransportContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (req.method === 'OPTIONS') {
      req.resume();
      res.writeHead(204, {
        ...BASE_HEADERS,
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers': 'content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (!this.running) return reply(req, res, 503, 'polling transport stopped');
    const rest = path.slice(this.prefix.length);
    if (rest === '/open') {
      if (req.method !== 'POST') return reply(req, res, 405, 'use POST to open a link', { allow: 'POST, OPTIONS' });
      return this.open(ctx, req, res);
    }
    const m = KEY_RE.exec(rest);
    if (!m) return reply(req, res, 404, `no such polling route: ${path}`);
    const method = req.method ?? '';
    if (method !== 'GET' && method !== 'POST' && method !== 'DELETE') {
      return reply(req, res, 405, `method ${method} not allowed here`, { allow: 'GET, POST, DELETE, OPTIONS' });
    }
    const link = this.links.get(m[1]!);
    if (!link) return reply(req, res, 404, 'unknown or expired link key');
    if (method === 'GET') return link.poll(req, res, this.clock());
    if (method === 'DELETE') {
      req.resume();
      link.closedByClient();
      return reply(req, res, 204, '');
    }
    return this.receive(link, req, res);
  }

  private async open(ctx: TransportContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The body is ignored, but read only up to a small cap: a large one gets 413 and is not read further.
    const body = await readBody(req, OPEN_MAX_BODY_BYTES);
    if (body === 'aborted') return;
    if (body === 'too-large') return tooLarge(req, res, `open takes no body (at most ${OPEN_MAX_BODY_BYTES} bytes)`);
    if (!this.running) return reply(req, res, 503, 'polling transport stopped');
    let key: string;
    do key = randomBytes(KEY_BYTES).toString('hex');
    while (this.links.has(key));
    const link = new PollingLink(this, key, remoteOf(req), this.clock());
    this.links.set(key, link);
    res.writeHead(200, { ...BASE_HEADERS, 'content-type': 'application/octet-stream', 'content-length': KEY_BYTES });
    res.end(Buffer.from(key, 'hex'));
    ctx.onLink(link);
  }

  private async receive(link: PollingLink, req: IncomingMessage, res: ServerResponse): Promise<void> {
    link.touch(this.clock());
    const body = await readBody(req, this.maxBodyBytes);
    if (body === 'aborted') return; // the client went away mid-body: nothing to answer
    if (body === 'too-large') return tooLarge(req, res, `body larger than ${this.maxBodyBytes} bytes`);
    const parsed = parseBatch(body, this.maxDatagram);
    if (typeof parsed === 'string') {
      if (parsed.startsWith('datagram of')) return tooLarge(req, res, parsed);
      return reply(req, res, 400, parsed);
    }
    if (link.state !== 'open') return reply(req, res, 410, 'link closed by server');
    link.touch(this.clock());
    for (const d of parsed) {
      if (link.state !== 'open') break;
      link.onDatagram(d);
    }
    reply(req, res, 204, '');
  }
}

type LinkState = 'open' | 'draining' | 'closed';

class PollingLink implements TransportLink {
  readonly kind = 'polling' as const;
  readonly reliable = true;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  /** open; draining = closed by the server with datagrams still to hand out; closed. */
  state: LinkState = 'open';
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private pending: { res: ServerResponse; deadline: number } | undefined;
  private flushScheduled = false;

  constructor(
    private readonly transport: PollingTransport,
    readonly key: string,
    readonly remote: string,
    private lastSeen: number,
  ) {}

  send(datagram: Uint8Array): void {
    if (this.state !== 'open' || datagram.byteLength > 0xffff) return;
    this.queue.push(datagram.slice());
    this.queuedBytes += 2 + datagram.byteLength;
    if (this.queuedBytes > this.transport.maxQueuedBytes) {
      this.end(410, 'client not polling');
      this.onClose('client not polling');
      return;
    }
    // Flush once the current task is done, so datagrams sent together go in one response.
    if (this.pending && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.flush(this.transport.clock());
      });
    }
  }

  close(): void {
    if (this.state !== 'open') return;
    if (this.queue.length === 0) return this.end(410, 'link closed by server');
    // Datagrams queued just before close (a DISCONNECT) still go out; the next GET after them gets 410.
    this.state = 'draining';
    this.flush(this.transport.clock());
  }

  touch(now: number): void {
    this.lastSeen = now;
  }

  /** A GET: answer at once if anything is queued, else hold it. */
  poll(req: IncomingMessage, res: ServerResponse, now: number): void {
    req.resume();
    this.lastSeen = now;
    if (this.pending) return reply(req, res, 409, 'another GET is already waiting on this link');
    if (this.queue.length === 0 && this.state === 'draining') return this.end(410, 'link closed by server', res);
    this.pending = { res, deadline: now + this.transport.holdMs };
    res.on('close', () => {
      if (this.pending?.res !== res) return;
      this.pending = undefined; // the client gave up on this GET
      this.lastSeen = this.transport.clock();
    });
    if (this.queue.length > 0) this.flush(now);
  }

  closedByClient(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.end(410, 'link closed by client');
    if (wasOpen) this.onClose('closed by client');
  }

  sweep(now: number): void {
    const p = this.pending;
    if (p && now >= p.deadline) {
      this.pending = undefined;
      this.lastSeen = now;
      respond(p.res, 204);
      if (this.state === 'draining') return this.end(410, 'link closed by server');
      return;
    }
    if (!p && now - this.lastSeen > this.transport.abandonMs) {
      const wasOpen = this.state === 'open';
      this.end(410, 'poll abandoned');
      if (wasOpen) this.onClose('poll abandoned');
    }
  }

  /** Closes the link for good: answers a held GET (or `res`) with `status`, drops the queue, forgets the key. */
  end(status: number, text: string, res?: ServerResponse): void {
    this.state = 'closed';
    this.queue = [];
    this.queuedBytes = 0;
    const p = this.pending;
    this.pending = undefined;
    if (p) respond(p.res, status, text);
    if (res) respond(res, status, text);
    this.transport.forget(this);
  }

  private flush(now: number): void {
    const p = this.pending;
    if (!p || this.queue.length === 0) return;
    if (p.res.destroyed || p.res.writableEnded) {
      this.pending = undefined;
      return;
    }
    const max = this.transport.maxResponseBytes;
    let n = 0;
    let size = 0;
    while (n < this.queue.length && (n === 0 || size + 2 + this.queue[n]!.byteLength <= max)) {
      size += 2 + this.queue[n]!.byteLength;
      n++;
    }
    const taken = this.queue.splice(0, n);
    this.queuedBytes -= size;
    this.pending = undefined;
    this.lastSeen = now;
    respond(p.res, 200, encodeBatch(taken, size));
  }
}

/** Reads a request body up to `max` bytes; past that stops reading ('too-large'). */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.resolve('too-large');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (v: Uint8Array | 'too-large' | 'aborted'): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      resolve(v);
    };
    const onData = (c: Buffer): void => {
      size += c.byteLength;
      if (size > max) {
        chunks.length = 0;
        req.pause();
        return finish('too-large');
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.once('end', () => finish(new Uint8Array(Buffer.concat(chunks, size))));
    req.once('error', () => finish('aborted'));
    req.once('close', () => finish(req.complete ? new Uint8Array(Buffer.concat(chunks, size)) : 'aborted'));
  });
}

/** 413, and the connection is closed after the answer: the rest of the body is never read. */
function tooLarge(req: IncomingMessage, res: ServerResponse, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.shouldKeepAlive = false;
  const body = `${text}\n`;
  res.writeHead(413, {
    ...BASE_HEADERS,
    connection: 'close',
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body, () => {
    // Give the client a moment to read the answer, then cut the connection instead of draining the body.
    setTimeout(() => req.socket.destroy(), 50).unref();
  });
}

function reply(req: IncomingMessage, res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  if (!req.complete) req.resume();
  respond(res, status, text, headers);
}

function respond(res: ServerResponse, status: number, body: string | Uint8Array = '', headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed || res.writableEnded) return;
  if (status === 204) {
    res.writeHead(204, { ...BASE_HEADERS, ...headers });
    res.end();
    return;
  }
  const bytes = typeof body === 'string' ? Buffer.from(body ? `${body}\n` : '') : body;
  res.writeHead(status, {
    ...BASE_HEADERS,
    ...headers,
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
    'content-length': bytes.byteLength,
  });
  res.end(bytes);
}

function remoteOf(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? 'unknown';
  return addr.includes(':') ? `[${addr}]:${req.socket.remotePort}` : `${addr}:${req.socket.remotePort}`;
}
