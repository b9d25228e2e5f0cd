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
 * connectTimeoutMs after its offer is closed.
 *
 * Signaling faces hostile clients (docs/transports.md, "WebRTC"): at most maxPending peer connections in
 * setup at once, counted from the moment an offer is admitted (webrtc-admission.ts), and at most
 * maxPendingPerSource of them from one source address (429 past it); signaling requests per source are
 * rate-limited (source-buckets.ts, 429); the answer's candidates are filtered before libdatachannel
 * sees them, at most maxRemoteCandidates unicast ones per peer connection (webrtc-candidates.ts).
 */

import { formatAddress } from '../source-address.js';
import type { TransportContext, TransportLink, TransportServer } from '../transport.js';
import { PendingSlots, type PendingSlot } from './webrtc-admission.js';
import { TokenBuckets } from '../source-buckets.js';
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
  /**
   * Most peer connections in setup at once (being created, or made and waiting for their data channel);
   * further offers are refused with HTTP 503. A slot is taken when the offer is admitted, so concurrent
   * offers never overshoot it. An integer ≥ 1. Default 256.
   */
  maxPending?: number;
  /**
   * Most peer connections in setup at once for offers from one source (the request's remote IP address,
   * any port; IPv6 by its /64), so that one client cannot take every slot; its further offers are refused
   * with HTTP 429. Players behind one NAT share a source: each holds a slot for ~0.1–0.5 s while it
   * connects, so the default lets 16 of them connect at the same moment while one source can hold at most
   * 1/16 of the default maxPending. An integer ≥ 1. Default 16.
   */
  maxPendingPerSource?: number;
  /**
   * Most remote ICE candidates taken from a client's answer per peer connection: only UDP candidates with
   * a unicast IP literal (no multicast, broadcast, unspecified address or hostname, mDNS `.local` names
   * included); the rest are dropped before libdatachannel sees them (each candidate makes the server send
   * STUN checks to that address). 0 takes none (the server then learns the client's address from its
   * connectivity checks, as it does for every browser). An integer ≥ 0. Default 8.
   */
  maxRemoteCandidates?: number;
  /**
   * Signaling requests (offer, answer, candidate polls, close, preflights) per second per source, sustained
   * (a token bucket of signalingBurst); a request over it gets HTTP 429. A client connecting makes at most
   * 11 (offer, answer, ≤ 8 candidate polls, close; usually 5–7). A number > 0; Infinity turns the limit
   * off. Default 40.
   */
  signalingRequestsPerSecond?: number;
  /**
   * Signaling requests a source may make at once before the rate applies (the bucket's size): the default
   * covers maxPendingPerSource (16) clients behind one address connecting at the same moment, 11 requests
   * each. An integer ≥ 1. Default 200.
   */
  signalingBurst?: number;
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
  /** Offers refused because maxPending connections were in setup (HTTP 503). */
  refusedBusy: number;
  /** Offers refused because their source had maxPendingPerSource connections in setup (HTTP 429). */
  refusedPerSource: number;
  /** Signaling requests refused because their source was over signalingRequestsPerSecond (HTTP 429). */
  rateLimited: number;
  /** Remote candidates from answers handed to libdatachannel. */
  remoteCandidatesAccepted: number;
  /** Remote candidates dropped from answers: not a unicast UDP IP literal, malformed, duplicate or past maxRemoteCandidates. */
  remoteCandidatesDropped: number;
  /** The core's onDatagram / onLink / onClose threw (caught). */
  handlerErrors: number;
}

/** One peer connection from its offer on: `link` once its data channel is open. */
interface Peer {
  readonly id: string;
  readonly conn: GeckosConnection;
  readonly dc: NativeDataChannel;
  readonly since: number;
  /** Its place in setup, given back when it opens or closes. */
  readonly slot: PendingSlot | undefined;
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
    refusedPerSource: 0,
    rateLimited: 0,
    remoteCandidatesAccepted: 0,
    remoteCandidatesDropped: 0,
    handlerErrors: 0,
  };

  private readonly connectTimeoutMs: number;
  private readonly maxPending: number;
  private readonly maxPendingPerSource: number;
  private readonly maxRemoteCandidates: number;
  private readonly requestsPerSecond: number;
  private readonly burst: number;
  private readonly maxBuffered: number;
  private slots: PendingSlots;
  private buckets: TokenBuckets;
  private geckos: GeckosAdapter<PendingSlot> | undefined;
  private ctx: TransportContext | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  /** Every peer connection we took over, by geckos id, until it is closed. */
  private readonly peers = new Map<string, Peer>();

  constructor(private readonly options: WebRtcTransportOptions = {}) {
    this.connectTimeoutMs = options.connectTimeoutMs ?? 15_000;
    this.maxPending = options.maxPending ?? 256;
    this.maxPendingPerSource = options.maxPendingPerSource ?? 16;
    this.maxRemoteCandidates = options.maxRemoteCandidates ?? 8;
    this.requestsPerSecond = options.signalingRequestsPerSecond ?? 40;
    this.burst = options.signalingBurst ?? 200;
    this.maxBuffered = options.maxBufferedBytes ?? 1 << 20;
    if (!(this.connectTimeoutMs > 0)) throw new RangeError('webrtc: connectTimeoutMs must be > 0');
    if (!(Number.isInteger(this.maxPending) && this.maxPending >= 1)) throw new RangeError('webrtc: maxPending must be an integer ≥ 1');
    if (!(Number.isInteger(this.maxPendingPerSource) && this.maxPendingPerSource >= 1)) {
      throw new RangeError('webrtc: maxPendingPerSource must be an integer ≥ 1');
    }
    if (!(Number.isInteger(this.maxRemoteCandidates) && this.maxRemoteCandidates >= 0)) {
      throw new RangeError('webrtc: maxRemoteCandidates must be an integer ≥ 0');
    }
    if (!(this.requestsPerSecond > 0)) throw new RangeError('webrtc: signalingRequestsPerSecond must be > 0 (Infinity: no limit)');
    if (!(Number.isInteger(this.burst) && this.burst >= 1)) throw new RangeError('webrtc: signalingBurst must be an integer ≥ 1');
    this.slots = new PendingSlots(this.maxPending, this.maxPendingPerSource);
    this.buckets = new TokenBuckets(this.requestsPerSecond, this.burst);
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
      allowRequest: (source) => {
        if (this.buckets.take(source)) return true;
        this.counters.rateLimited++;
        return false;
      },
      admit: (source) => {
        const slot = this.slots.reserve(source);
        if (slot === 'busy') {
          this.counters.refusedBusy++;
          return 503;
        }
        if (slot === 'source-busy') {
          this.counters.refusedPerSource++;
          return 429;
        }
        return slot;
      },
      // The offer was answered: a slot no connection took over (geckos failed to make one) is free again.
      offerSettled: (slot) => {
        if (!slot.claimed) this.slots.release(slot);
      },
      onConnection: (id, conn, dc, pc, slot) => this.adopt(id, conn, dc, pc, slot),
      maxRemoteCandidates: this.maxRemoteCandidates,
      onCandidates: (accepted, dropped) => {
        this.counters.remoteCandidatesAccepted += accepted;
        this.counters.remoteCandidatesDropped += dropped;
      },
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
    this.slots = new PendingSlots(this.maxPending, this.maxPendingPerSource);
    this.buckets = new TokenBuckets(this.requestsPerSecond, this.burst);
    await geckos.stop();
  }

  /** @internal link.close(): close its peer connection, without onClose. */
  release(peer: Peer): void {
    this.finish(peer, undefined);
  }

  /** Takes over a connection geckos just created (see the file comment). */
  private adopt(id: string, conn: GeckosConnection, dc: NativeDataChannel, pc: NativePeerConnection, slot: PendingSlot | undefined): void {
    if (this.peers.has(id)) return;
    if (slot) slot.claimed = true;
    const peer: Peer = { id, conn, dc, since: performance.now(), slot, link: undefined, done: false };
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
    if (peer.slot) this.slots.release(peer.slot); // out of setup
    let remote = `webrtc:${peer.id}`;
    let maxMessageSize = 65_536;
    try {
      const pair = peer.conn.peerConnection?.getSelectedCandidatePair();
      if (pair) remote = formatAddress(pair.remote.address, pair.remote.port);
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
    if (peer.slot) this.slots.release(peer.slot);
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

  /** Peer connections in setup now, those geckos is still creating included (at most maxPending). */
  get pendingCount(): number {
    return this.slots.inUse;
  }

  /** Closes peer connections that did not open within connectTimeoutMs; forgets refilled rate buckets. */
  private sweep(): void {
    this.geckos?.adoptNew();
    this.buckets.prune();
    const now = performance.now();
    for (const peer of [...this.peers.values()]) {
      if (peer.link || now - peer.since < this.connectTimeoutMs) continue;
      this.counters.connectTimeouts++;
      this.finish(peer, undefined);
    }
  }
}
