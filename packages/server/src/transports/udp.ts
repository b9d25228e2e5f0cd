/**
 * Raw UDP transport (Node clients only: packages/client/src/transports/udp.ts).
 *
 * Every UDP datagram is one *frame*; the frame layouts are in @volley/protocol's udp-frame.ts (shared
 * with the client's UDP transport).
 *
 * Handshake (stateless cookie, like SCTP/DTLS/QUIC retry): a HELLO is answered with a COOKIE smaller than
 * the HELLO and nothing is remembered. cookie = first 16 bytes of
 *   HMAC-SHA256(secret, "volley-udp-cookie/1" | source ip (UTF-8 text as Node reports it) | 0x00 |
 *               source port u16 | time bucket u32),   time bucket = floor(ms since epoch / 10 000)
 * A COOKIE-ECHO whose cookie matches its source address for the current or the previous bucket (so a
 * cookie lives 10–20 s; constant-time compare) and has not admitted a link yet (a cookie admits exactly one
 * link id, so one HELLO cannot fill the link table) creates the link, remembers link id → link, and delivers
 * the inner datagram (the client's CONNECT or RESUME). A COOKIE-ECHO for a link id already known (the
 * client retried because our first reply was lost) is treated exactly like DATA: no second link.
 *
 * Connection ids: the 64-bit random link id, chosen by the client, is the link's secret. A well-formed
 * DATA (or COOKIE-ECHO) for a known id from a new source address moves the link there (NAT rebinding,
 * client migration); replies always go to the source of the last valid frame and nowhere else.
 *
 * Anything else — unknown type, bad length, wrong cookie, unknown link id, oversize, links full — is dropped
 * silently, counted in `counters`, and never answered: a spoofed source cannot make us allocate state or
 * send more bytes than it sent.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  UDP_COOKIE_BUCKET_MS,
  UDP_COOKIE_FRAME_SIZE,
  UDP_COOKIE_SIZE,
  UDP_DATA_HEADER_SIZE,
  UDP_ECHO_HEADER_SIZE,
  UDP_FRAMING_VERSION,
  UDP_HELLO_SIZE,
  UDP_NONCE_SIZE,
  UdpFrame,
} from '@volley/protocol';
import type { TransportContext, TransportLink, TransportServer } from '../transport.js';

const COOKIE_LABEL = Buffer.from('volley-udp-cookie/1', 'ascii');

export interface UdpTransportOptions {
  /** UDP port to bind; default 0 (any free port: see info().port). */
  port?: number;
  /** Address to bind; default the context's host. */
  host?: string;
  /** HMAC key for cookies; default 32 random bytes per start(). Share it between restarts to keep cookies valid. */
  cookieSecret?: Uint8Array;
  /** Most links at once; COOKIE-ECHOs for new links past it are dropped. Default 10 000. */
  maxLinks?: number;
  /** A link with no valid frame for this long is closed with onClose('idle'). Default 60 000 ms. */
  idleMs?: number;
  /** Clock in ms since the epoch, for the cookie time bucket and idle sweep (tests); default Date.now. */
  clock?: () => number;
}

/** Frames dropped or handled, by why: for stats and tests. */
export interface UdpTransportCounters {
  /** Links created (valid COOKIE-ECHO for a new link id). */
  linksCreated: number;
  /** COOKIE replies sent. */
  cookiesSent: number;
  /** Unknown frame type, bad length, bad version, empty datagram. */
  malformed: number;
  /** Larger than ctx.mtu plus the largest framing. */
  oversize: number;
  /** HELLO shorter than UDP_HELLO_SIZE. */
  shortHello: number;
  /** COOKIE-ECHO for a new link whose cookie did not verify for its source address. */
  badCookie: number;
  /** DATA for a link id we do not know (never created, closed, or idle). */
  unknownLink: number;
  /** COOKIE-ECHO for a new link refused because maxLinks links exist. */
  full: number;
  /** COOKIE-ECHO for a new link id whose cookie already admitted another link (one cookie, one link). */
  cookieSpent: number;
  /** A known link id arrived from a new source address; the link moved there. */
  addressChanges: number;
  /** Links closed by the idle sweep. */
  idleClosed: number;
  /** The core's onDatagram threw (caught: one bad datagram must not take the server down). */
  handlerErrors: number;
  /** Socket errors after bind (ignored; UDP is connectionless). */
  socketErrors: number;
}

/** The cookie for a source address in a time bucket (exported for tests and tools). */
export function udpCookie(secret: Uint8Array, address: string, port: number, bucket: number): Buffer {
  const tail = Buffer.alloc(6);
  tail.writeUInt16BE(port & 0xffff, 0);
  tail.writeUInt32BE(bucket >>> 0, 2);
  return createHmac('sha256', secret)
    .update(COOKIE_LABEL)
    .update(Buffer.from(address, 'utf8'))
    .update(Buffer.from([0]))
    .update(tail)
    .digest()
    .subarray(0, UDP_COOKIE_SIZE);
}

function formatRemote(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** A view of the datagram inside a frame (plain Uint8Array, not a Buffer). */
function innerDatagram(msg: Buffer, offset: number): Uint8Array {
  return new Uint8Array(msg.buffer, msg.byteOffset + offset, msg.length - offset);
}

class UdpLink implements TransportLink {
  readonly kind = 'udp' as const;
  readonly reliable = false;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  closed = false;

  constructor(
    private readonly owner: UdpTransport,
    readonly id: bigint,
    public address: string,
    public port: number,
    public lastSeen: number,
  ) {}

  get remote(): string {
    return formatRemote(this.address, this.port);
  }

  send(datagram: Uint8Array): void {
    if (this.closed) return;
    this.owner.sendTo(this, datagram);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.forget(this);
  }
}

export class UdpTransport implements TransportServer {
  readonly kind = 'udp' as const;
  readonly counters: UdpTransportCounters = {
    linksCreated: 0,
    cookiesSent: 0,
    malformed: 0,
    oversize: 0,
    shortHello: 0,
    badCookie: 0,
    unknownLink: 0,
    full: 0,
    cookieSpent: 0,
    addressChanges: 0,
    idleClosed: 0,
    handlerErrors: 0,
    socketErrors: 0,
  };

  private readonly maxLinks: number;
  private readonly idleMs: number;
  private readonly clock: () => number;
  private socket: Socket | undefined;
  private ctx: TransportContext | undefined;
  private secret: Uint8Array = new Uint8Array(0);
  private boundPort = 0;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly links = new Map<bigint, UdpLink>();
  /** Cookies that admitted a link (hex → until when they would be valid): each admits exactly one link id. */
  private readonly spentCookies = new Map<string, number>();

  constructor(private readonly options: UdpTransportOptions = {}) {
    this.maxLinks = options.maxLinks ?? 10_000;
    this.idleMs = options.idleMs ?? 60_000;
    this.clock = options.clock ?? Date.now;
    if (!(this.maxLinks >= 0)) throw new RangeError('udp: maxLinks must be ≥ 0');
    if (!(this.idleMs > 0)) throw new RangeError('udp: idleMs must be > 0');
    if (options.cookieSecret !== undefined && options.cookieSecret.length < 16) {
      throw new RangeError('udp: cookieSecret must be at least 16 bytes');
    }
  }

  /** Links currently open. */
  get linkCount(): number {
    return this.links.size;
  }

  info(): Record<string, unknown> {
    return { port: this.boundPort };
  }

  async start(ctx: TransportContext): Promise<void> {
    if (this.socket) throw new Error('udp: already started');
    const host = this.options.host ?? ctx.host;
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.ctx = ctx;
    this.secret = this.options.cookieSecret ?? randomBytes(32);
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(new Error(`udp: cannot bind ${formatRemote(host, this.options.port ?? 0)}: ${e.message}`));
      };
      socket.once('error', onError);
      socket.bind(this.options.port ?? 0, host, () => {
        socket.off('error', onError);
        resolve();
      });
    });
    socket.on('error', () => {
      this.counters.socketErrors++;
    });
    socket.on('message', (msg: Buffer, rinfo: RemoteInfo) => this.receive(msg, rinfo));
    this.socket = socket;
    this.boundPort = socket.address().port;
    const every = Math.min(Math.max(Math.floor(this.idleMs / 4), 10), 5_000);
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  /**
   * Closes the socket and forgets every link (their onClose is not called: stopping is a close we asked
   * for); resolves once the socket is closed.
   */
  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const link of this.links.values()) link.closed = true;
    this.links.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  /** @internal Sends a DATA frame to the link's current address. */
  sendTo(link: UdpLink, datagram: Uint8Array): void {
    const socket = this.socket;
    if (!socket) return;
    const frame = Buffer.allocUnsafe(1 + datagram.length);
    frame[0] = UdpFrame.Data;
    frame.set(datagram, 1);
    this.transmit(socket, frame, link.port, link.address);
  }

  /** @internal link.close(): forget the link id. */
  forget(link: UdpLink): void {
    if (this.links.get(link.id) === link) this.links.delete(link.id);
  }

  private transmit(socket: Socket, frame: Buffer, port: number, address: string): void {
    try {
      socket.send(frame, port, address, () => {}); // errors (e.g. ECONNREFUSED) are UDP weather: ignored
    } catch {
      // socket closing
    }
  }

  private receive(msg: Buffer, rinfo: RemoteInfo): void {
    const ctx = this.ctx;
    const socket = this.socket;
    if (!ctx || !socket) return;
    if (msg.length > ctx.mtu + UDP_ECHO_HEADER_SIZE) {
      this.counters.oversize++;
      return;
    }
    switch (msg.length === 0 ? -1 : msg[0]) {
      case UdpFrame.Hello:
        return this.onHello(socket, msg, rinfo);
      case UdpFrame.CookieEcho:
        return this.onCookieEcho(ctx, msg, rinfo);
      case UdpFrame.Data:
        return this.onData(ctx, msg, rinfo);
      default:
        this.counters.malformed++;
    }
  }

  private onHello(socket: Socket, msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < UDP_HELLO_SIZE) {
      this.counters.shortHello++;
      return;
    }
    if (msg[1] !== UDP_FRAMING_VERSION) {
      this.counters.malformed++;
      return;
    }
    const bucket = Math.floor(this.clock() / UDP_COOKIE_BUCKET_MS);
    const reply = Buffer.allocUnsafe(UDP_COOKIE_FRAME_SIZE);
    reply[0] = UdpFrame.Cookie;
    msg.copy(reply, 1, 2, 2 + UDP_NONCE_SIZE);
    udpCookie(this.secret, rinfo.address, rinfo.port, bucket).copy(reply, 1 + UDP_NONCE_SIZE);
    this.counters.cookiesSent++;
    this.transmit(socket, reply, rinfo.port, rinfo.address);
  }

  private onCookieEcho(ctx: TransportContext, msg: Buffer, rinfo: RemoteInfo): void {
    const inner = msg.length - UDP_ECHO_HEADER_SIZE;
    if (inner < 1 || inner > ctx.mtu) {
      this.counters.malformed++;
      return;
    }
    const id = msg.readBigUInt64BE(1 + UDP_COOKIE_SIZE);
    const known = this.links.get(id);
    if (known) return this.deliver(known, msg, UDP_ECHO_HEADER_SIZE, rinfo);
    const cookie = msg.subarray(1, 1 + UDP_COOKIE_SIZE);
    if (!this.cookieValid(cookie, rinfo)) {
      this.counters.badCookie++;
      return;
    }
    const now = this.clock();
    const spentKey = cookie.toString('hex');
    if ((this.spentCookies.get(spentKey) ?? -Infinity) > now) {
      this.counters.cookieSpent++;
      return;
    }
    if (this.links.size >= this.maxLinks) {
      this.counters.full++;
      return;
    }
    // Valid for the rest of its bucket and the next one: remembered that long, then forgotten by sweep().
    this.spentCookies.set(spentKey, now + 2 * UDP_COOKIE_BUCKET_MS);
    const link = new UdpLink(this, id, rinfo.address, rinfo.port, now);
    this.links.set(id, link);
    this.counters.linksCreated++;
    try {
      ctx.onLink(link);
    } catch {
      this.counters.handlerErrors++;
    }
    if (!link.closed) this.deliver(link, msg, UDP_ECHO_HEADER_SIZE, rinfo);
  }

  private onData(ctx: TransportContext, msg: Buffer, rinfo: RemoteInfo): void {
    const inner = msg.length - UDP_DATA_HEADER_SIZE;
    if (inner < 1 || inner > ctx.mtu) {
      this.counters.malformed++;
      return;
    }
    const link = this.links.get(msg.readBigUInt64BE(1));
    if (!link) {
      this.counters.unknownLink++;
      return;
    }
    this.deliver(link, msg, UDP_DATA_HEADER_SIZE, rinfo);
  }

  private deliver(link: UdpLink, msg: Buffer, offset: number, rinfo: RemoteInfo): void {
    link.lastSeen = this.clock();
    if (link.address !== rinfo.address || link.port !== rinfo.port) {
      link.address = rinfo.address;
      link.port = rinfo.port;
      this.counters.addressChanges++;
    }
    try {
      link.onDatagram(innerDatagram(msg, offset));
    } catch {
      this.counters.handlerErrors++;
    }
  }

  private cookieValid(cookie: Buffer, rinfo: RemoteInfo): boolean {
    const bucket = Math.floor(this.clock() / UDP_COOKIE_BUCKET_MS);
    let ok = false;
    // Both buckets are always computed, so the time taken says nothing about which one matched.
    for (const b of [bucket, bucket - 1]) {
      if (timingSafeEqual(cookie, udpCookie(this.secret, rinfo.address, rinfo.port, b))) ok = true;
    }
    return ok;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [cookie, until] of this.spentCookies) if (until <= now) this.spentCookies.delete(cookie);
    for (const link of [...this.links.values()]) {
      if (now - link.lastSeen < this.idleMs) continue;
      this.links.delete(link.id);
      link.closed = true;
      this.counters.idleClosed++;
      try {
        link.onClose('idle');
      } catch {
        this.counters.handlerErrors++;
      }
    }
  }
}
