/**
 * Raw UDP transport (Node clients only: packages/client/src/transports/udp.ts). Frames, connect tokens and packet
 * protection are in @volley/udp (shared with the client); docs/transports.md "UDP" and docs/security.md say why.
 *
 * Connect token (netcode.io's model): POST /volley/udp/token on the HTTP port mints one (connect-token.ts): a
 * random link id, a key per direction, sealed with `tokenKey` and valid `tokenTtlMs`. The client gets the keys in
 * the clear beside it, over the HTTP(S) request it already makes.
 *
 * Handshake (stateless cookie, like SCTP/DTLS/QUIC retry): a HELLO is answered with a COOKIE smaller than the
 * HELLO and nothing is remembered. cookie = first 16 bytes of
 *   HMAC-SHA256(secret, "volley-udp-cookie/1" | source ip (UTF-8 text as Node reports it) | 0x00 |
 *               source port u16 | time bucket u32 | HELLO nonce 8 B),   time bucket = floor(ms since epoch / 10 000)
 * (the nonce makes each HELLO's cookie its own, so a new client that reuses a port a moment after another one
 * left does not find its cookie spent).
 * A COOKIE-ECHO creates a link only if its cookie matches its source address for the current or the previous
 * bucket (so a cookie lives 10–20 s; constant-time compare) and has admitted no link yet, its token opens and has
 * not expired nor admitted a link yet, and its sealed datagram (the client's CONNECT or RESUME) is authentic under
 * the token's client key. Nothing is allocated for a COOKIE-ECHO that fails any of these.
 *
 * Every later frame is sealed: DATA both ways, and the path validation pair. A frame that does not open under
 * its link's key, or whose packet number the replay window has seen, is dropped and counted — it never reaches
 * the protocol and never moves the link.
 *
 * Migration with path validation (RFC 9000 §8.2–9): an authentic frame with the highest packet number so far
 * from a new source address is delivered, but replies keep going to the validated address; the new one gets
 * only a CHALLENGE (a random 8 bytes, sealed) — at most 3× the bytes received from it, at most every 100 ms —
 * and the link moves there when a RESPONSE carrying those bytes arrives from it. A spoofed copy of a client's
 * packet is a replay and gets nothing; a client that claims a victim's address gets the victim nothing but
 * challenges, within 3× what it sent.
 *
 * Anything else — unknown type, bad length, wrong cookie or token, unknown link id, oversize, links full — is
 * dropped silently, counted in `counters`, and never answered.
 */

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  CONNECT_TOKEN_SIZE,
  connectTokenToJson,
  FrameOpener,
  FrameSealer,
  mintConnectToken,
  openConnectToken,
  readPn,
  TOKEN_KEY_SIZE,
  UDP_CHALLENGE_SIZE,
  UDP_CLIENT_HEADER_SIZE,
  UDP_COOKIE_BUCKET_MS,
  UDP_COOKIE_FRAME_SIZE,
  UDP_COOKIE_SIZE,
  UDP_FRAMING_VERSION,
  UDP_HELLO_SIZE,
  UDP_LINK_ID_SIZE,
  UDP_NONCE_SIZE,
  UDP_PN_SIZE,
  UDP_TAG_SIZE,
  UdpFrame,
} from '@volley/udp';
import type { TransportContext, TransportLink, TransportServer } from '../transport.js';

const COOKIE_LABEL = Buffer.from('volley-udp-cookie/1', 'ascii');
/** Where clients get connect tokens (POST, on the HTTP port). */
export const UDP_TOKEN_PATH = '/volley/udp/token';
/** COOKIE-ECHO: 0xE3 | nonce | cookie | token | pn, before the sealed datagram. */
const ECHO_HEADER_SIZE = 1 + UDP_NONCE_SIZE + UDP_COOKIE_SIZE + CONNECT_TOKEN_SIZE + UDP_PN_SIZE;
/** The largest frame overhead (COOKIE-ECHO's): anything longer than the MTU plus this is oversize. */
const MAX_OVERHEAD = ECHO_HEADER_SIZE + UDP_TAG_SIZE;
/** A new path gets at most this many times the bytes it sent us until it is validated (RFC 9000 §8.1). */
export const UDP_AMPLIFICATION_FACTOR = 3;
/** At most one CHALLENGE per this many ms to a path being validated. */
const CHALLENGE_RETRY_MS = 100;
/** A path validation not completed within this long is forgotten (the next frame from there starts anew). */
const PROBE_LIFETIME_MS = 5_000;
const CHALLENGE_FRAME_SIZE = FrameSealer.overhead() + UDP_CHALLENGE_SIZE;

export interface UdpTransportOptions {
  /** UDP port to bind; default 0 (any free port: see info().port). */
  port?: number;
  /** Address to bind; default the context's host. */
  host?: string;
  /** HMAC key for cookies; default 32 random bytes per start(). Share it between restarts to keep cookies valid. */
  cookieSecret?: Uint8Array;
  /**
   * Key (32 bytes) that seals connect tokens; default 32 random bytes per start(). Give every process the same
   * key to let one of them (or a web backend, with @volley/udp's mintConnectToken) mint tokens for the others.
   */
  tokenKey?: Uint8Array;
  /** How long a connect token can start a link, ms. Default 30 000. */
  tokenTtlMs?: number;
  /** Most links at once; COOKIE-ECHOs for new links past it are dropped. Default 10 000. */
  maxLinks?: number;
  /** A link with no valid frame for this long is closed with onClose('idle'). Default 60 000 ms. */
  idleMs?: number;
  /** Clock in ms since the epoch, for cookie buckets, token expiry and the idle sweep (tests); default Date.now. */
  clock?: () => number;
}

/** Frames dropped or handled, by why: for stats and tests. */
export interface UdpTransportCounters {
  /** Connect tokens minted at POST /volley/udp/token. */
  tokensIssued: number;
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
  /** COOKIE-ECHO whose token did not open with tokenKey, or had expired. */
  badToken: number;
  /** COOKIE-ECHO for a new link whose token already admitted a link (one token, one link). */
  tokenSpent: number;
  /** Frame for a link id we do not know (never created, closed, or idle). */
  unknownLink: number;
  /** COOKIE-ECHO for a new link refused because maxLinks links exist. */
  full: number;
  /** COOKIE-ECHO for a new link id whose cookie already admitted another link (one cookie, one link). */
  cookieSpent: number;
  /** Sealed frames that did not authenticate under their link's key (forged, corrupted, wrong link). */
  forged: number;
  /** Sealed frames whose packet number was seen already or is older than the replay window. */
  replayed: number;
  /** CHALLENGEs sent to a new source address of a link. */
  challengesSent: number;
  /** CHALLENGEs not sent because the new path had not sent 1/3 of their bytes yet (or one went out < 100 ms ago). */
  challengesHeld: number;
  /** A new path answered its challenge: the link moved there. */
  addressChanges: number;
  /** Links closed by the idle sweep. */
  idleClosed: number;
  /** The core's onDatagram threw (caught: one bad datagram must not take the server down). */
  handlerErrors: number;
  /** Socket errors after bind (ignored; UDP is connectionless). */
  socketErrors: number;
}

/** The cookie for a HELLO's nonce from a source address in a time bucket (exported for tests and tools). */
export function udpCookie(secret: Uint8Array, address: string, port: number, bucket: number, nonce: Uint8Array): Buffer {
  if (nonce.length !== UDP_NONCE_SIZE) throw new RangeError(`udp: a HELLO nonce is ${UDP_NONCE_SIZE} bytes`);
  const tail = Buffer.alloc(6 + UDP_NONCE_SIZE);
  tail.writeUInt16BE(port & 0xffff, 0);
  tail.writeUInt32BE(bucket >>> 0, 2);
  tail.set(nonce, 6);
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

/** A new source address of a link, until it answers its challenge. */
interface PathProbe {
  address: string;
  port: number;
  challenge: Buffer;
  /** Bytes received from it / sent to it since the probe began (the amplification budget). */
  received: number;
  sent: number;
  lastChallengeAt: number;
  startedAt: number;
}

class UdpLink implements TransportLink {
  readonly kind = 'udp' as const;
  readonly reliable = false;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  closed = false;
  probe: PathProbe | undefined;

  constructor(
    private readonly owner: UdpTransport,
    readonly id: bigint,
    /** Seals what we send (server key), opens what the client sends (client key). */
    readonly sealer: FrameSealer,
    readonly opener: FrameOpener,
    /** The validated address: every reply goes here and nowhere else. */
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
    tokensIssued: 0,
    linksCreated: 0,
    cookiesSent: 0,
    malformed: 0,
    oversize: 0,
    shortHello: 0,
    badCookie: 0,
    badToken: 0,
    tokenSpent: 0,
    unknownLink: 0,
    full: 0,
    cookieSpent: 0,
    forged: 0,
    replayed: 0,
    challengesSent: 0,
    challengesHeld: 0,
    addressChanges: 0,
    idleClosed: 0,
    handlerErrors: 0,
    socketErrors: 0,
  };

  private readonly maxLinks: number;
  private readonly idleMs: number;
  private readonly tokenTtlMs: number;
  private readonly clock: () => number;
  private socket: Socket | undefined;
  private ctx: TransportContext | undefined;
  private secret: Uint8Array = new Uint8Array(0);
  private tokenKey: Uint8Array = new Uint8Array(0);
  private boundPort = 0;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly links = new Map<bigint, UdpLink>();
  /** Cookies that admitted a link (hex → until when they would be valid): each admits exactly one link id. */
  private readonly spentCookies = new Map<string, number>();
  /** Link ids whose token admitted a link → until the token expires: each token admits exactly one link. */
  private readonly spentTokens = new Map<bigint, number>();

  constructor(private readonly options: UdpTransportOptions = {}) {
    this.maxLinks = options.maxLinks ?? 10_000;
    this.idleMs = options.idleMs ?? 60_000;
    this.tokenTtlMs = options.tokenTtlMs ?? 30_000;
    this.clock = options.clock ?? Date.now;
    if (!(this.maxLinks >= 0)) throw new RangeError('udp: maxLinks must be ≥ 0');
    if (!(this.idleMs > 0)) throw new RangeError('udp: idleMs must be > 0');
    if (!(Number.isInteger(this.tokenTtlMs) && this.tokenTtlMs > 0)) throw new RangeError('udp: tokenTtlMs must be a positive integer');
    if (options.cookieSecret !== undefined && options.cookieSecret.length < 16) {
      throw new RangeError('udp: cookieSecret must be at least 16 bytes');
    }
    if (options.tokenKey !== undefined && options.tokenKey.length !== TOKEN_KEY_SIZE) {
      throw new RangeError(`udp: tokenKey must be ${TOKEN_KEY_SIZE} bytes`);
    }
  }

  /** Links currently open. */
  get linkCount(): number {
    return this.links.size;
  }

  info(): Record<string, unknown> {
    return { port: this.boundPort, token: UDP_TOKEN_PATH };
  }

  async start(ctx: TransportContext): Promise<void> {
    if (this.socket) throw new Error('udp: already started');
    const host = this.options.host ?? ctx.host;
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    this.ctx = ctx;
    this.secret = this.options.cookieSecret ?? randomBytes(32);
    this.tokenKey = this.options.tokenKey ?? randomBytes(TOKEN_KEY_SIZE);
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
    ctx.http.route(UDP_TOKEN_PATH, (req, res) => this.issueToken(req, res), { exact: true, maxBodyBytes: 0 });
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

  /** @internal Sends a sealed DATA frame to the link's validated address. */
  sendTo(link: UdpLink, datagram: Uint8Array): void {
    const socket = this.socket;
    if (!socket) return;
    let frame: Buffer;
    try {
      frame = link.sealer.seal(UdpFrame.Data, datagram);
    } catch {
      return this.expire(link, 'udp: packet numbers exhausted');
    }
    this.transmit(socket, frame, link.port, link.address);
  }

  /** @internal link.close(): forget the link id. */
  forget(link: UdpLink): void {
    if (this.links.get(link.id) === link) this.links.delete(link.id);
  }

  private issueToken(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' });
      res.end('POST for a connect token\n');
      return;
    }
    const now = this.clock();
    const token = mintConnectToken(this.tokenKey, now + this.tokenTtlMs);
    this.counters.tokensIssued++;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(connectTokenToJson(token, now)));
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
    if (msg.length > ctx.mtu + MAX_OVERHEAD) {
      this.counters.oversize++;
      return;
    }
    switch (msg.length === 0 ? -1 : msg[0]) {
      case UdpFrame.Hello:
        return this.onHello(socket, msg, rinfo);
      case UdpFrame.CookieEcho:
        return this.onCookieEcho(ctx, msg, rinfo);
      case UdpFrame.Data:
        return this.onSealed(UdpFrame.Data, msg, rinfo);
      case UdpFrame.Response:
        return this.onSealed(UdpFrame.Response, msg, rinfo);
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
    const nonce = msg.subarray(2, 2 + UDP_NONCE_SIZE);
    nonce.copy(reply, 1);
    udpCookie(this.secret, rinfo.address, rinfo.port, bucket, nonce).copy(reply, 1 + UDP_NONCE_SIZE);
    this.counters.cookiesSent++;
    this.transmit(socket, reply, rinfo.port, rinfo.address);
  }

  private onCookieEcho(ctx: TransportContext, msg: Buffer, rinfo: RemoteInfo): void {
    const sealed = msg.length - ECHO_HEADER_SIZE;
    if (sealed < UDP_TAG_SIZE + 1 || sealed > ctx.mtu + UDP_TAG_SIZE) {
      this.counters.malformed++;
      return;
    }
    const tokenAt = 1 + UDP_NONCE_SIZE + UDP_COOKIE_SIZE;
    const id = msg.readBigUInt64BE(tokenAt + 1);
    const pn = readPn(msg, ECHO_HEADER_SIZE - UDP_PN_SIZE);
    const payload = msg.subarray(ECHO_HEADER_SIZE);
    const known = this.links.get(id);
    // The client retried because our first reply was lost: to its link, like DATA.
    if (known) return this.fromLink(known, UdpFrame.CookieEcho, pn, payload, msg.length, rinfo);
    const nonce = msg.subarray(1, 1 + UDP_NONCE_SIZE);
    const cookie = msg.subarray(1 + UDP_NONCE_SIZE, tokenAt);
    if (!this.cookieValid(cookie, nonce, rinfo)) {
      this.counters.badCookie++;
      return;
    }
    const now = this.clock();
    const spentKey = cookie.toString('hex');
    if ((this.spentCookies.get(spentKey) ?? -Infinity) > now) {
      this.counters.cookieSpent++;
      return;
    }
    const grant = openConnectToken(this.tokenKey, msg.subarray(tokenAt, tokenAt + CONNECT_TOKEN_SIZE), now);
    if (!grant) {
      this.counters.badToken++;
      return;
    }
    if ((this.spentTokens.get(id) ?? -Infinity) > now) {
      this.counters.tokenSpent++;
      return;
    }
    if (this.links.size >= this.maxLinks || this.spentTokens.size >= 4 * this.maxLinks + 1024) {
      this.counters.full++;
      return;
    }
    const opener = new FrameOpener(grant.clientKey, grant.linkId);
    const datagram = opener.open(UdpFrame.CookieEcho, pn, payload);
    if (typeof datagram === 'string') {
      this.counters[datagram === 'replay' ? 'replayed' : 'forged']++;
      return;
    }
    // Valid for the rest of its bucket and the next one: remembered that long, then forgotten by sweep().
    this.spentCookies.set(spentKey, now + 2 * UDP_COOKIE_BUCKET_MS);
    this.spentTokens.set(id, grant.expires);
    const link = new UdpLink(this, id, new FrameSealer(grant.serverKey, grant.linkId), opener, rinfo.address, rinfo.port, now);
    this.links.set(id, link);
    this.counters.linksCreated++;
    try {
      ctx.onLink(link);
    } catch {
      this.counters.handlerErrors++;
    }
    if (!link.closed) this.deliver(link, datagram);
  }

  /** DATA or RESPONSE from a client: 0xD0/0xD2 | link id | pn | sealed. */
  private onSealed(type: typeof UdpFrame.Data | typeof UdpFrame.Response, msg: Buffer, rinfo: RemoteInfo): void {
    const sealed = msg.length - UDP_CLIENT_HEADER_SIZE;
    const min = UDP_TAG_SIZE + (type === UdpFrame.Response ? UDP_CHALLENGE_SIZE : 1);
    const max = UDP_TAG_SIZE + (type === UdpFrame.Response ? UDP_CHALLENGE_SIZE : (this.ctx?.mtu ?? 0));
    if (sealed < min || sealed > max) {
      this.counters.malformed++;
      return;
    }
    const link = this.links.get(msg.readBigUInt64BE(1));
    if (!link) {
      this.counters.unknownLink++;
      return;
    }
    this.fromLink(link, type, readPn(msg, 1 + UDP_LINK_ID_SIZE), msg.subarray(UDP_CLIENT_HEADER_SIZE), msg.length, rinfo);
  }

  /** A sealed frame for a known link: authenticate it, then deliver it or answer a path validation. */
  private fromLink(link: UdpLink, type: ClientSealedType, pn: number, sealed: Uint8Array, size: number, rinfo: RemoteInfo): void {
    const highest = link.opener.highest;
    const plain = link.opener.open(type, pn, sealed);
    if (typeof plain === 'string') {
      this.counters[plain === 'replay' ? 'replayed' : 'forged']++;
      return;
    }
    const now = this.clock();
    link.lastSeen = now;
    const onPath = link.address === rinfo.address && link.port === rinfo.port;
    if (type === UdpFrame.Response) {
      const probe = link.probe;
      if (!onPath && probe && probe.address === rinfo.address && probe.port === rinfo.port && timingSafeEqual(probe.challenge, plain)) {
        link.address = rinfo.address;
        link.port = rinfo.port;
        link.probe = undefined;
        this.counters.addressChanges++;
      }
      return;
    }
    // Only the newest packet can start a migration (an older one from elsewhere is a late or copied packet).
    if (!onPath && pn > highest) this.probePath(link, rinfo, size, now);
    this.deliver(link, plain);
  }

  /** Starts or continues validating a new source address of `link` (see the file comment). */
  private probePath(link: UdpLink, rinfo: RemoteInfo, size: number, now: number): void {
    let probe = link.probe;
    if (!probe || probe.address !== rinfo.address || probe.port !== rinfo.port || now - probe.startedAt > PROBE_LIFETIME_MS) {
      probe = {
        address: rinfo.address,
        port: rinfo.port,
        challenge: randomBytes(UDP_CHALLENGE_SIZE),
        received: 0,
        sent: 0,
        lastChallengeAt: -Infinity,
        startedAt: now,
      };
      link.probe = probe;
    }
    probe.received += size;
    const socket = this.socket;
    if (!socket) return;
    if (now - probe.lastChallengeAt < CHALLENGE_RETRY_MS || probe.sent + CHALLENGE_FRAME_SIZE > UDP_AMPLIFICATION_FACTOR * probe.received) {
      this.counters.challengesHeld++;
      return;
    }
    let frame: Buffer;
    try {
      frame = link.sealer.seal(UdpFrame.Challenge, probe.challenge);
    } catch {
      return this.expire(link, 'udp: packet numbers exhausted');
    }
    probe.sent += frame.length;
    probe.lastChallengeAt = now;
    this.counters.challengesSent++;
    this.transmit(socket, frame, probe.port, probe.address);
  }

  private deliver(link: UdpLink, datagram: Uint8Array): void {
    try {
      link.onDatagram(datagram);
    } catch {
      this.counters.handlerErrors++;
    }
  }

  private cookieValid(cookie: Buffer, nonce: Buffer, rinfo: RemoteInfo): boolean {
    const bucket = Math.floor(this.clock() / UDP_COOKIE_BUCKET_MS);
    let ok = false;
    // Both buckets are always computed, so the time taken says nothing about which one matched.
    for (const b of [bucket, bucket - 1]) {
      if (timingSafeEqual(cookie, udpCookie(this.secret, rinfo.address, rinfo.port, b, nonce))) ok = true;
    }
    return ok;
  }

  /** Closes a link on our side and tells the core why. */
  private expire(link: UdpLink, reason: string): void {
    if (link.closed) return;
    this.links.delete(link.id);
    link.closed = true;
    try {
      link.onClose(reason);
    } catch {
      this.counters.handlerErrors++;
    }
  }

  private sweep(): void {
    const now = this.clock();
    for (const [cookie, until] of this.spentCookies) if (until <= now) this.spentCookies.delete(cookie);
    for (const [id, until] of this.spentTokens) if (until <= now) this.spentTokens.delete(id);
    for (const link of [...this.links.values()]) {
      if (link.probe && now - link.probe.startedAt > PROBE_LIFETIME_MS) link.probe = undefined;
      if (now - link.lastSeen < this.idleMs) continue;
      this.counters.idleClosed++;
      this.expire(link, 'idle');
    }
  }
}

type ClientSealedType = typeof UdpFrame.Data | typeof UdpFrame.Response | typeof UdpFrame.CookieEcho;
