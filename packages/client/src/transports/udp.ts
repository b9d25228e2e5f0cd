/**
 * Raw UDP client transport (Node only: node:dgram). Frames, connect tokens and packet protection are in
 * @volley/udp (shared with the server, packages/server/src/transports/udp.ts); docs/transports.md "UDP".
 *
 * Flow:
 *  1. open() asks the server for a connect token (POST /volley/udp/token on its HTTP port: a link id, a key per
 *     direction, and the token sealed for the UDP server) and, at the same time, binds a socket connected to
 *     the server (so only its datagrams are received) and sends HELLO every 250 ms, ×1.5 up to 1 s, until a
 *     COOKIE with our nonce arrives. open() resolves once it has both; aborting the signal (or close()) stops
 *     it and rejects.
 *  2. Until the first authentic datagram *from the server* arrives, every send() goes out as a COOKIE-ECHO
 *     carrying the cookie, the token and the sealed datagram: the core's CONNECT/RESUME and its own retries
 *     (new send() calls) are what create the link on the server; a repeated COOKIE-ECHO for a link the server
 *     already made is just delivered to it. A cookie lives 10–20 s; if we are still echoing 8 s after getting
 *     it, send() also sends a fresh HELLO and the next COOKIE replaces it.
 *  3. Once any authentic server frame arrives, send() sends sealed DATA frames. Frames from the server that
 *     do not open under its key, or that the replay window has seen, are dropped and counted.
 *
 * The link id is the connection id: rebind() moves to a new local socket/port (as a NAT rebinding would); the
 * server validates the new path with a CHALLENGE, which we answer with a RESPONSE from the socket it reached,
 * and only then sends there.
 */

import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import {
  connectTokenFromJson,
  FrameOpener,
  FrameSealer,
  readPn,
  UDP_COOKIE_FRAME_SIZE,
  UDP_FRAMING_VERSION,
  UDP_HELLO_SIZE,
  UDP_NONCE_SIZE,
  UDP_PN_SIZE,
  UDP_SERVER_HEADER_SIZE,
  UdpFrame,
  type ReceivedConnectToken,
} from '@volley/udp';
import type { ClientTransport, ServerInfo } from '../transport.js';

const HELLO_FIRST_RETRY_MS = 250;
const HELLO_MAX_RETRY_MS = 1_000;
/** Cookies live 10–20 s on the server; refresh one still in use after this long. */
const COOKIE_REFRESH_MS = 8_000;
/** Socket errors that are UDP weather (ICMP unreachable): the protocol's timeout decides, not us. */
const TRANSIENT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN']);
const DEFAULT_TOKEN_PATH = '/volley/udp/token';

interface PendingOpen {
  done: (error?: Error) => void;
}

/** A token and the sealers it keys. */
interface Keys {
  token: ReceivedConnectToken;
  sealer: FrameSealer;
  opener: FrameOpener;
}

export interface UdpClientCounters {
  hellosSent: number;
  cookieEchoesSent: number;
  dataSent: number;
  received: number;
  /** Frames from the server we could not use (unknown type, bad length, stale nonce). */
  malformed: number;
  /** Sealed frames from the server that did not authenticate, or that the replay window had seen. */
  rejected: number;
  /** Path challenges answered (after a rebind or a NAT rebinding). */
  challengesAnswered: number;
  /** Transient socket errors ignored (e.g. ECONNREFUSED after ICMP port unreachable). */
  socketErrors: number;
}

export class UdpClientTransport implements ClientTransport {
  readonly kind = 'udp' as const;
  readonly reliable = false;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  readonly counters: UdpClientCounters = {
    hellosSent: 0,
    cookieEchoesSent: 0,
    dataSent: 0,
    received: 0,
    malformed: 0,
    rejected: 0,
    challengesAnswered: 0,
    socketErrors: 0,
  };

  private readonly host: string;
  private readonly port: number | undefined;
  private readonly tokenUrl: URL;
  private readonly nonce: Buffer = randomBytes(UDP_NONCE_SIZE);
  private socket: Socket | undefined;
  private keys: Keys | undefined;
  private cookie: Buffer | undefined;
  private cookieAt = 0;
  private lastHelloAt = -Infinity;
  private established = false;
  private started = false;
  private closed = false;
  private pending: PendingOpen | undefined;

  constructor(baseUrl: URL, info: ServerInfo) {
    const h = baseUrl.hostname;
    this.host = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
    const udp = info.endpoints.udp;
    const port = udp?.['port'];
    this.port = typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65536 ? port : undefined;
    const path = udp?.['token'];
    this.tokenUrl = new URL(typeof path === 'string' && path.startsWith('/') ? path : DEFAULT_TOKEN_PATH, baseUrl);
  }

  /** The server's address as "host:port", for logs. */
  get remote(): string {
    return `${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port ?? '?'}`;
  }

  /** The local UDP port in use (changes on rebind()), or undefined before open(). */
  get localPort(): number | undefined {
    try {
      return this.socket?.address().port;
    } catch {
      return undefined;
    }
  }

  /** True once an authentic datagram from the server has arrived, i.e. send() now sends DATA frames. */
  get isEstablished(): boolean {
    return this.established;
  }

  open(signal: AbortSignal): Promise<void> {
    if (this.started || this.closed) return Promise.reject(new Error('udp: transport already opened or closed'));
    this.started = true;
    const port = this.port;
    if (port === undefined) return Promise.reject(new Error('udp: the server gives no UDP port (endpoints.udp.port)'));
    if (signal.aborted) {
      this.close();
      return Promise.reject(new Error('udp: aborted'));
    }
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      let delay = HELLO_FIRST_RETRY_MS;
      const onAbort = (): void => done(new Error('udp: aborted'));
      const done = (error?: Error): void => {
        if (this.pending !== pending) return;
        this.pending = undefined;
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (error) {
          this.close();
          reject(error);
        } else resolve();
      };
      const pending: PendingOpen = { done: (error) => (error || (this.keys && this.cookie) ? done(error) : undefined) };
      this.pending = pending;
      signal.addEventListener('abort', onAbort, { once: true });
      const retry = (): void => {
        if (this.pending !== pending || this.cookie) return;
        this.sendHello();
        timer = setTimeout(retry, delay);
        delay = Math.min(delay * 1.5, HELLO_MAX_RETRY_MS);
      };
      this.fetchToken(signal)
        .then((keys) => {
          if (this.pending !== pending) return;
          this.keys = keys;
          pending.done();
        })
        .catch((e: unknown) => pending.done(e instanceof Error ? e : new Error(String(e))));
      this.connectSocket(port)
        .then((socket) => {
          if (this.pending !== pending) {
            closeQuietly(socket);
            return;
          }
          this.socket = socket;
          retry();
        })
        .catch((e: unknown) => pending.done(new Error(`udp: cannot reach ${this.remote}: ${(e as Error).message}`)));
    });
  }

  send(datagram: Uint8Array): void {
    const socket = this.socket;
    const cookie = this.cookie;
    const keys = this.keys;
    if (this.closed || !socket || !cookie || !keys) return;
    let frame: Buffer;
    try {
      if (this.established) {
        frame = keys.sealer.seal(UdpFrame.Data, datagram, { withLinkId: true });
        this.counters.dataSent++;
      } else {
        const now = Date.now();
        if (now - this.cookieAt >= COOKIE_REFRESH_MS && now - this.lastHelloAt >= HELLO_FIRST_RETRY_MS) this.sendHello();
        frame = keys.sealer.seal(UdpFrame.CookieEcho, datagram, { prefix: Buffer.concat([this.nonce, cookie, keys.token.token]) });
        this.counters.cookieEchoesSent++;
      }
    } catch (e) {
      this.close();
      this.onClose((e as Error).message);
      return;
    }
    this.transmit(socket, frame);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending?.done(new Error('udp: closed'));
    const socket = this.socket;
    this.socket = undefined;
    if (socket) closeQuietly(socket);
  }

  /**
   * Moves to a new local socket (a new source port), keeping the link id: the server validates the new path
   * (CHALLENGE/RESPONSE) and then sends there. Resolves once the new socket is in use. For tests of NAT
   * rebinding and migration. Before the link is established the cookie (bound to the old address) is
   * refreshed with a HELLO.
   */
  async rebind(): Promise<void> {
    const port = this.port;
    if (this.closed || !this.socket || port === undefined) throw new Error('udp: rebind() needs an open transport');
    const socket = await this.connectSocket(port);
    if (this.closed) {
      closeQuietly(socket);
      throw new Error('udp: closed');
    }
    const old = this.socket;
    this.socket = socket;
    if (old) closeQuietly(old);
    if (!this.established && this.cookie) {
      this.cookieAt = -Infinity;
      this.sendHello();
    }
  }

  private async fetchToken(signal: AbortSignal): Promise<Keys> {
    let json: unknown;
    try {
      const res = await fetch(this.tokenUrl, { method: 'POST', signal });
      if (!res.ok) throw new Error(`${this.tokenUrl.pathname} answered ${res.status}`);
      json = await res.json();
    } catch (e) {
      throw new Error(`udp: cannot get a connect token: ${(e as Error).message}`, { cause: e });
    }
    const token = connectTokenFromJson(json);
    return { token, sealer: new FrameSealer(token.clientKey, token.linkId), opener: new FrameOpener(token.serverKey, token.linkId) };
  }

  private connectSocket(port: number): Promise<Socket> {
    return new Promise<Socket>((resolve, reject) => {
      const socket = createSocket({ type: this.host.includes(':') ? 'udp6' : 'udp4' });
      let connected = false;
      socket.on('message', (msg: Buffer) => {
        if (socket === this.socket) this.receive(msg);
      });
      socket.on('error', (e: NodeJS.ErrnoException) => {
        if (!connected) {
          closeQuietly(socket);
          reject(e);
        } else if (socket === this.socket) this.socketError(e);
      });
      socket.connect(port, this.host, () => {
        connected = true;
        resolve(socket);
      });
    });
  }

  private socketError(e: NodeJS.ErrnoException): void {
    if (e.code !== undefined && TRANSIENT_ERRORS.has(e.code)) {
      this.counters.socketErrors++;
      return;
    }
    if (this.closed) return;
    const opening = this.pending;
    if (opening) {
      opening.done(new Error(`udp: socket error: ${e.message}`));
      return;
    }
    this.close();
    this.onClose(`udp socket error: ${e.message}`);
  }

  private sendHello(): void {
    const socket = this.socket;
    if (!socket) return;
    const hello = Buffer.alloc(UDP_HELLO_SIZE);
    hello[0] = UdpFrame.Hello;
    hello[1] = UDP_FRAMING_VERSION;
    this.nonce.copy(hello, 2);
    this.lastHelloAt = Date.now();
    this.counters.hellosSent++;
    this.transmit(socket, hello);
  }

  private transmit(socket: Socket, frame: Buffer): void {
    try {
      socket.send(frame, (e) => {
        if (e) this.counters.socketErrors++;
      });
    } catch {
      // socket closing
    }
  }

  private receive(msg: Buffer): void {
    if (this.closed) return;
    if (msg.length === UDP_COOKIE_FRAME_SIZE && msg[0] === UdpFrame.Cookie && msg.subarray(1, 1 + UDP_NONCE_SIZE).equals(this.nonce)) {
      this.cookie = Buffer.from(msg.subarray(1 + UDP_NONCE_SIZE));
      this.cookieAt = Date.now();
      this.pending?.done();
      return;
    }
    const keys = this.keys;
    const type = msg[0];
    if ((type !== UdpFrame.Data && type !== UdpFrame.Challenge) || !keys || msg.length <= UDP_SERVER_HEADER_SIZE) {
      this.counters.malformed++;
      return;
    }
    const plain = keys.opener.open(type, readPn(msg, 1), msg.subarray(1 + UDP_PN_SIZE));
    if (typeof plain === 'string') {
      this.counters.rejected++;
      return;
    }
    this.established = true;
    if (type === UdpFrame.Challenge) {
      const socket = this.socket;
      if (!socket) return;
      this.counters.challengesAnswered++;
      this.transmit(socket, keys.sealer.seal(UdpFrame.Response, plain, { withLinkId: true }));
      return;
    }
    if (plain.length === 0) return;
    this.counters.received++;
    this.onDatagram(plain);
  }
}

function closeQuietly(socket: Socket): void {
  try {
    socket.close();
  } catch {
    // already closed
  }
}
