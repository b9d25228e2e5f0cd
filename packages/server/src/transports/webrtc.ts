/**
 * WebRTC transport (browsers, and Node clients through node-datachannel): one geckos.io connection = one
 * link, one binary data-channel message = one protocol datagram, both ways. The data channel is unordered
 * with maxRetransmits 0: the protocol's own reliability is the only one.
 *
 * geckos.io itself (creating its instance, its HTTP routes, handing over each connection it creates,
 * closing connections) is geckos-adapter.ts. This file runs the link lifecycle: right after geckos creates
 * each connection (before the client can have answered, so no event can be missed) it takes over the data
 * channel's open / message / close callbacks and the peer connection's state callback — geckos' own send
 * path defers each message to a microtask and drops everything while one byte is buffered; its receive
 * path JSON-parses text; its open handler could abort the process (geckos-adapter.ts says how).
 *
 * Media (UDP): one socket shared by all peers when `multiplex` is on (default), on `bindAddress`
 * (default ctx.host), in `portRange` (default: any free port).
 *
 * A link ends when its data channel closes or errors or its peer connection goes disconnected / failed /
 * closed: a client's close() reaches the server within milliseconds on loopback (DTLS/SCTP close; the
 * Volley client also POSTs …/close). A peer that vanishes silently is noticed by ICE consent checks
 * (libjuice: tens of seconds); the protocol's own timeout usually comes first. A text message closes the
 * link; empty or oversize (> ctx.mtu) datagrams are dropped. A peer connection that is not open
 * connectTimeoutMs after its offer is closed, and at most maxPending may be in setup at once.
 */

import type { TransportContext, TransportLink, TransportServer } from '../transport.js';
import {
  closeConnection,
  GeckosAdapter,
  WEBRTC_SIGNALING_PATH,
  type GeckosConnection,
  type NativeDataChannel,
  type NativePeerConnection,
} from './geckos-adapter.js';

export { WEBRTC_SIGNALING_PATH } from './geckos-adapter.js';

/** An ICE server, as in RTCIceServer. */
export interface WebRtcIceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

export interface WebRtcTransportOptions {
  /**
   * STUN/TURN servers for the server's own candidates. Default [] — host candidates only, and no public
   * STUN server is ever contacted unless one is listed here. username/credential are folded into turn(s):
   * URLs (turn:user:pass@host:port), the form libdatachannel takes.
   */
  iceServers?: WebRtcIceServer[];
  /** Local address for the media (UDP) socket(s). Default ctx.host. */
  bindAddress?: string;
  /** UDP port range for the media socket(s), 1025–65535. Default: any free port. */
  portRange?: { min: number; max: number };
  /** One UDP socket for all peers (true, default) or one per peer. */
  multiplex?: boolean;
  /** A peer connection whose data channel is not open this long after its offer was made is closed. Default 15 000 ms. */
  connectTimeoutMs?: number;
  /** Most peer connections in setup at once; further offers are refused with HTTP 503. Default 256. */
  maxPending?: number;
  /** Datagrams to a link are dropped while more than this many bytes wait in its send buffer. Default 1 MiB. */
  maxBufferedBytes?: number;
}

/** What the transport dropped or refused, and why: for stats and tests. */
export interface WebRtcTransportCounters {
  linksCreated: number;
  /** Text message from a client (the link is closed). */
  textMessages: number;
  /** Empty datagram, or larger than ctx.mtu, from a client (dropped). */
  badSize: number;
  /** Datagrams to a client dropped: its send buffer over maxBufferedBytes, or larger than its max message size. */
  sendDropped: number;
  /** Peer connections closed because they did not open within connectTimeoutMs. */
  connectTimeouts: number;
  /** Offers refused because maxPending connections were in setup. */
  refusedBusy: number;
  /** The core's onDatagram / onLink / onClose threw (caught). */
  handlerErrors: number;
}

function formatRemote(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** One peer connection from its offer on: `link` once its data channel is open. */
interface Peer {
  readonly id: string;
  readonly conn: GeckosConnection;
  readonly dc: NativeDataChannel;
  readonly since: number;
  link: WebRtcLink | undefined;
  done: boolean;
}

class WebRtcLink implements TransportLink {
  readonly kind = 'webrtc' as const;
  readonly reliable = false;
  onDatagram: (datagram: Uint8Array) => void = () => {};
  onClose: (reason: string) => void = () => {};
  closed = false;

  constructor(
    private readonly owner: WebRtcTransport,
    private readonly peer: Peer,
    readonly remote: string,
    private readonly maxMessageSize: number,
    private readonly maxBuffered: number,
  ) {}

  send(datagram: Uint8Array): void {
    if (this.closed) return;
    const dc = this.peer.dc;
    try {
      if (datagram.length > this.maxMessageSize || dc.bufferedAmount() > this.maxBuffered) {
        this.owner.counters.sendDropped++;
        return;
      }
      dc.sendMessageBinary(datagram);
    } catch {
      // closing under us: the close callbacks report it
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.release(this.peer);
  }
}

export class WebRtcTransport implements TransportServer {
  readonly kind = 'webrtc' as const;
  readonly counters: WebRtcTransportCounters = {
    linksCreated: 0,
    textMessages: 0,
    badSize: 0,
    sendDropped: 0,
    connectTimeouts: 0,
    refusedBusy: 0,
    handlerErrors: 0,
  };

  private readonly connectTimeoutMs: number;
  private readonly maxPending: number;
  private readonly maxBuffered: number;
  private geckos: GeckosAdapter | undefined;
  private ctx: TransportContext | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  /** Every peer connection we took over, by geckos id, until it is closed. */
  private readonly peers = new Map<string, Peer>();

  constructor(private readonly options: WebRtcTransportOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.maxPending = options.maxPending ?? 256;
    this.maxBuffered = options.maxBufferedBytes ?? 1 << 20;
    if (!(this.connectTimeoutMs > 0)) throw new RangeError('webrtc: connectTimeoutMs must be > 0');
    if (!(this.maxPending >= 1)) throw new RangeError('webrtc: maxPending must be ≥ 1');
    const r = options.portRange;
    if (r && !(Number.isInteger(r.min) && Number.isInteger(r.max) && r.min >= 1025 && r.min <= r.max && r.max <= 65535)) {
      throw new RangeError('webrtc: portRange must be integers with 1025 ≤ min ≤ max ≤ 65535');
    }
  }

  /** Links currently open. */
  get linkCount(): number {
    let n = 0;
    for (const p of this.peers.values()) if (p.link && !p.link.closed) n++;
    return n;
  }

  info(): Record<string, unknown> {
    return { signaling: WEBRTC_SIGNALING_PATH };
  }

  async start(ctx: TransportContext): Promise<void> {
    if (this.geckos) throw new Error('webrtc: already started');
    const o = this.options;
    this.geckos = new GeckosAdapter(ctx.http.server, {
      iceServers: o.iceServers ?? [],
      bindAddress: o.bindAddress ?? ctx.host,
      multiplex: o.multiplex ?? true,
      ...(o.portRange ? { portRange: o.portRange } : {}),
      admit: () => {
        if (this.pendingCount() < this.maxPending) return true;
        this.counters.refusedBusy++;
        return 503;
      },
      onConnection: (id, conn, dc, pc) => this.adopt(id, conn, dc, pc),
    });
    this.ctx = ctx;
    const every = Math.min(Math.max(Math.floor(this.connectTimeoutMs / 4), 10), 5_000);
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
  }

  /**
   * Stops answering signaling, closes every link (their onClose is not called: stopping is a close we
   * asked for) and every peer connection in setup; resolves once they are closed. The shared UDP socket
   * goes with the last peer connection.
   */
  async stop(): Promise<void> {
    const geckos = this.geckos;
    if (!geckos) return;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.geckos = undefined;
    this.ctx = undefined;
    for (const peer of this.peers.values()) {
      peer.done = true;
      if (peer.link) peer.link.closed = true;
    }
    this.peers.clear();
    await geckos.stop();
  }

  /** @internal link.close(): close its peer connection, without onClose. */
  release(peer: Peer): void {
    this.finish(peer, undefined);
  }

  /** Takes over a connection geckos just created (see the file comment). */
  private adopt(id: string, conn: GeckosConnection, dc: NativeDataChannel, pc: NativePeerConnection): void {
    if (this.peers.has(id)) return;
    const peer: Peer = { id, conn, dc, since: performance.now(), link: undefined, done: false };
    this.peers.set(id, peer);
    try {
      dc.onOpen(() => this.opened(peer));
      dc.onClosed(() => this.finish(peer, 'webrtc: data channel closed by peer'));
      dc.onError((err: string) => this.finish(peer, `webrtc: data channel error: ${err}`));
      pc.onStateChange((state: string) => {
        if (state === 'disconnected' || state === 'failed' || state === 'closed') this.finish(peer, `webrtc: peer connection ${state}`);
      });
    } catch {
      this.finish(peer, undefined);
    }
  }

  /** The data channel opened: a link. Runs from a native callback, so it must never throw. */
  private opened(peer: Peer): void {
    const ctx = this.ctx;
    if (peer.done || peer.link || !ctx) return;
    let remote = `webrtc:${peer.id}`;
    let maxMessageSize = 65_536;
    try {
      const pair = peer.conn.peerConnection?.getSelectedCandidatePair();
      if (pair) remote = formatRemote(pair.remote.address, pair.remote.port);
      maxMessageSize = peer.dc.maxMessageSize() || maxMessageSize;
      const mtu = ctx.mtu;
      peer.dc.onMessage((msg: string | Buffer | ArrayBuffer) => this.received(peer, msg, mtu));
    } catch {
      return this.finish(peer, undefined); // closed under us
    }
    const link = new WebRtcLink(this, peer, remote, maxMessageSize, this.maxBuffered);
    peer.link = link;
    this.counters.linksCreated++;
    try {
      ctx.onLink(link);
    } catch {
      this.counters.handlerErrors++;
    }
  }

  private received(peer: Peer, msg: string | Buffer | ArrayBuffer, mtu: number): void {
    const link = peer.link;
    if (!link || link.closed) return;
    if (typeof msg === 'string') {
      this.counters.textMessages++;
      return this.finish(peer, 'webrtc: text message (only binary datagrams are accepted)');
    }
    const bytes = msg instanceof ArrayBuffer ? new Uint8Array(msg) : new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength);
    if (bytes.length === 0 || bytes.length > mtu) {
      this.counters.badSize++;
      return;
    }
    try {
      link.onDatagram(bytes);
    } catch {
      this.counters.handlerErrors++;
    }
  }

  /** Closes a peer connection once; reports `reason` to its link's onClose unless undefined or the link was closed by the core. */
  private finish(peer: Peer, reason: string | undefined): void {
    if (peer.done) return;
    peer.done = true;
    if (this.peers.get(peer.id) === peer) this.peers.delete(peer.id);
    void closeConnection(peer.conn);
    const link = peer.link;
    if (!link || link.closed) return;
    link.closed = true;
    if (reason === undefined) return;
    try {
      link.onClose(reason);
    } catch {
      this.counters.handlerErrors++;
    }
  }

  private pendingCount(): number {
    let n = 0;
    for (const p of this.peers.values()) if (!p.link) n++;
    return n;
  }

  /** Closes peer connections that did not open within connectTimeoutMs. */
  private sweep(): void {
    this.geckos?.adoptNew();
    const now = performance.now();
    for (const peer of [...this.peers.values()]) {
      if (peer.link || now - peer.since < this.connectTimeoutMs) continue;
      this.counters.connectTimeouts++;
      this.finish(peer, undefined);
    }
  }
}
