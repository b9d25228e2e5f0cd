/**
 * Raw UDP transport (Node clients only: packages/client/src/transports/udp.ts). Frames, connect tokens and packet
 * protection are in @volley/udp (shared with the client); docs/transports.md "UDP" and docs/security.md say why.
 *
 * This file is the link table, the frames' checks and path validation; the connect tokens (POST
 * /volley/udp/token on the HTTP port: a random link id and a key per direction, sealed with `tokenKey`, valid
 * `tokenTtlMs`) are udp-tokens.ts, and the stateless cookies (a HELLO is answered with a COOKIE smaller than the
 * HELLO and nothing is remembered) are udp-cookies.ts.
 *
 * A COOKIE-ECHO creates a link only if its cookie is valid for its source address and has admitted no link yet,
 * its token opens, has not expired and has admitted no link yet, its sealed datagram (the client's CONNECT or
 * RESUME) is authentic under the token's client key (bound to its cookie and token), and its source has made
 * fewer than `linksPerSecondPerSource` links lately. Nothing is kept for a COOKIE-ECHO that fails any of these.
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

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  CONNECT_TOKEN_SIZE,
  FrameOpener,
  FrameSealer,
  readPn,
  TOKEN_KEY_SIZE,
  UDP_CHALLENGE_SIZE,
  UDP_CLIENT_HEADER_SIZE,
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
import { TokenBuckets } from '../source-buckets.js';
import { formatAddress, sourceOf } from '../source-address.js';
import type { TransportContext, TransportLink, TransportServer } from '../transport.js';
import { UdpCookies } from './udp-cookies.js';
import { UDP_TOKEN_PATH, UdpTokens } from './udp-tokens.js';

export { udpCookie } from './udp-cookies.js';
export { UDP_TOKEN_PATH } from './udp-tokens.js';

/** The client frames that are sealed under a link's client key. */
type ClientSealedType = typeof UdpFrame.Data | typeof UdpFrame.Response | typeof UdpFrame.CookieEcho;
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

/** A random first packet number below 2^52 for a link's server→client frames (see FrameSealer). */
function randomFirstPn(): number {
  return Number(randomBytes(8).readBigUInt64BE() >> 12n);
}

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
  /**
   * How long a connect token can start a link, ms. Default 30 000. Tokens that claim to be valid longer than
   * this from now (e.g. minted elsewhere with a longer life) are refused, so what the server remembers of spent
   * tokens is bounded by it.
   */
  tokenTtlMs?: number;
  /** Connect tokens one source (IP address; IPv6 by /64) may get per second at POST /volley/udp/token, bursts of 2 s. Default 20. */
  tokensPerSecondPerSource?: number;
  /** New links one source may create per second, bursts of 2 s (past it a COOKIE-ECHO for a new link is dropped). Default 10. */
  linksPerSecondPerSource?: number;
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
  /** COOKIE-ECHO for a new link refused because maxLinks links exist, or the spent-token table is full. */
  full: number;
  /** Token requests refused (429) because their source asked for more than tokensPerSecondPerSource. */
  tokensRefused: number;
  /** COOKIE-ECHOs for new links dropped because their source made more than linksPerSecondPerSource. */
  linksRateLimited: number;
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
    return formatAddress(this.address, this.port);
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
    tokensRefused: 0,
    linksRateLimited: 0,
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
  private readonly tokensPerSecond: number;
  private readonly linkRate: TokenBuckets;
  private socket: Socket | undefined;
  private ctx: TransportContext | undefined;
  private cookies: UdpCookies | undefined;
  private tokens: UdpTokens | undefined;
  private boundPort = 0;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private readonly links = new Map<bigint, UdpLink>();

  constructor(private readonly options: UdpTransportOptions = {}) {
    this.maxLinks = options.maxLinks ?? 10_000;
    this.idleMs = options.idleMs ?? 60_000;
    this.tokenTtlMs = options.tokenTtlMs ?? 30_000;
    this.clock = options.clock ?? Date.now;
    const tokens = options.tokensPerSecondPerSource ?? 20;
    const links = options.linksPerSecondPerSource ?? 10;
    if (!(tokens > 0)) throw new RangeError('udp: tokensPerSecondPerSource must be > 0');
    if (!(links > 0)) throw new RangeError('udp: linksPerSecondPerSource must be > 0');
    this.tokensPerSecond = tokens;
    this.linkRate = new TokenBuckets(links, Math.max(1, Math.ceil(2 * links)), this.clock);
    if (!(Number.isInteger(this.maxLinks) && this.maxLinks >= 1)) throw new RangeError('udp: maxLinks must be an integer ≥ 1');
    if (!(this.idleMs > 0 && Number.isFinite(this.idleMs))) throw new RangeError('udp: idleMs must be a finite number > 0');
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
    const cookies = new UdpCookies(this.options.cookieSecret ?? randomBytes(32), this.clock);
    const maxSpent = 16 * this.maxLinks + 65_536;
    const tokens = new UdpTokens(
      this.options.tokenKey ?? randomBytes(TOKEN_KEY_SIZE),
      this.tokenTtlMs,
      this.tokensPerSecond,
      maxSpent,
      this.clock,
    );
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => {
        socket.close();
        reject(new Error(`udp: cannot bind ${formatAddress(host, this.options.port ?? 0)}: ${e.message}`));
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
    this.cookies = cookies;
    this.tokens = tokens;
    this.boundPort = socket.address().port;
    ctx.http.route(
      UDP_TOKEN_PATH,
      (req, res) => {
        const done = tokens.serve(req, res);
        if (done === 'issued') this.counters.tokensIssued++;
        else if (done === 'refused') this.counters.tokensRefused++;
      },
      { exact: true, maxBodyBytes: 0 },
    );
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
    const cookies = this.cookies;
    const tokens = this.tokens;
    if (!ctx || !socket || !cookies || !tokens) return;
    if (msg.length > ctx.mtu + MAX_OVERHEAD) {
      this.counters.oversize++;
      return;
    }
    switch (msg.length === 0 ? -1 : msg[0]) {
      case UdpFrame.Hello:
        return this.onHello(socket, cookies, msg, rinfo);
      case UdpFrame.CookieEcho:
        return this.onCookieEcho(ctx, cookies, tokens, msg, rinfo);
      case UdpFrame.Data:
        return this.onSealed(UdpFrame.Data, msg, rinfo);
      case UdpFrame.Response:
        return this.onSealed(UdpFrame.Response, msg, rinfo);
      default:
        this.counters.malformed++;
    }
  }

  private onHello(socket: Socket, cookies: UdpCookies, msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length < UDP_HELLO_SIZE) {
      this.counters.shortHello++;
      return;
    }
    if (msg[1] !== UDP_FRAMING_VERSION) {
      this.counters.malformed++;
      return;
    }
    const reply = Buffer.allocUnsafe(UDP_COOKIE_FRAME_SIZE);
    reply[0] = UdpFrame.Cookie;
    const nonce = msg.subarray(2, 2 + UDP_NONCE_SIZE);
    nonce.copy(reply, 1);
    cookies.issue(nonce, rinfo.address, rinfo.port).copy(reply, 1 + UDP_NONCE_SIZE);
    this.counters.cookiesSent++;
    this.transmit(socket, reply, rinfo.port, rinfo.address);
  }

  private onCookieEcho(ctx: TransportContext, cookies: UdpCookies, tokens: UdpTokens, msg: Buffer, rinfo: RemoteInfo): void {
    const sealed = msg.length - ECHO_HEADER_SIZE;
    if (sealed < UDP_TAG_SIZE + 1 || sealed > ctx.mtu + UDP_TAG_SIZE) {
      this.counters.malformed++;
      return;
    }
    const tokenAt = 1 + UDP_NONCE_SIZE + UDP_COOKIE_SIZE;
    const id = msg.readBigUInt64BE(tokenAt + 1);
    const pn = readPn(msg, ECHO_HEADER_SIZE - UDP_PN_SIZE);
    const payload = msg.subarray(ECHO_HEADER_SIZE);
    // nonce | cookie | token: associated data of the sealed datagram, which is bound to them.
    const prefix = msg.subarray(1, ECHO_HEADER_SIZE - UDP_PN_SIZE);
    const known = this.links.get(id);
    // The client retried because our first reply was lost: to its link, like DATA.
    if (known) return this.fromLink(known, UdpFrame.CookieEcho, pn, payload, msg.length, rinfo, prefix);
    const nonce = msg.subarray(1, 1 + UDP_NONCE_SIZE);
    const cookie = msg.subarray(1 + UDP_NONCE_SIZE, tokenAt);
    const cookieVerdict = cookies.check(cookie, nonce, rinfo.address, rinfo.port);
    if (cookieVerdict !== 'ok') {
      this.counters[cookieVerdict === 'bad' ? 'badCookie' : 'cookieSpent']++;
      return;
    }
    const grant = tokens.redeem(msg.subarray(tokenAt, tokenAt + CONNECT_TOKEN_SIZE), id);
    if (grant === 'bad' || grant === 'spent') {
      this.counters[grant === 'bad' ? 'badToken' : 'tokenSpent']++;
      return;
    }
    if (grant === 'full' || this.links.size >= this.maxLinks) {
      this.counters.full++;
      return;
    }
    const now = this.clock();
    const opener = new FrameOpener(grant.clientKey, grant.linkId);
    const datagram = opener.open(UdpFrame.CookieEcho, pn, payload, prefix);
    if (typeof datagram === 'string') {
      this.counters[datagram === 'replay' ? 'replayed' : 'forged']++;
      return;
    }
    // Authentic, from a validated address: its source's rate of new links is what bounds the spent tokens.
    if (!this.linkRate.take(sourceOf(rinfo.address) ?? rinfo.address)) {
      this.counters.linksRateLimited++;
      return;
    }
    cookies.spend(cookie);
    tokens.spend(id, grant);
    const sealer = new FrameSealer(grant.serverKey, grant.linkId, randomFirstPn());
    const link = new UdpLink(this, id, sealer, opener, rinfo.address, rinfo.port, now);
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
  private fromLink(
    link: UdpLink,
    type: ClientSealedType,
    pn: number,
    sealed: Uint8Array,
    size: number,
    rinfo: RemoteInfo,
    prefix?: Uint8Array,
  ): void {
    const highest = link.opener.highest;
    const plain = link.opener.open(type, pn, sealed, prefix);
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
    this.cookies?.sweep();
    this.tokens?.sweep();
    this.linkRate.prune();
    for (const link of [...this.links.values()]) {
      if (link.probe && now - link.probe.startedAt > PROBE_LIFETIME_MS) link.probe = undefined;
      if (now - link.lastSeen < this.idleMs) continue;
      this.counters.idleClosed++;
      this.expire(link, 'idle');
    }
  }
}
