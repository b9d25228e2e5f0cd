/**
 * The server's endpoint, sans-I/O like quinn-proto's `Endpoint` beside its `Connection`: it decides the life
 * of every session, and the host (packages/server) only moves bytes and time.
 *
 * Links are the host's: one client's transport connection (a WebSocket, a polling key, a data channel, a UDP
 * link id), any value the host likes as a key (`L`). The endpoint routes a link's first datagram: a CONNECT
 * starts a session (or is refused: server full), a RESUME moves an existing session onto the link after a
 * constant-time token check. A link that says neither within `handshakeTimeout` is closed. Session ids and
 * tokens come from the injected random source.
 *
 * Limits (docs/sdk.md, "Limits"): every datagram routed to a session — data, acks, pings, duplicates, malformed
 * ones — is charged to that session's budget (`packetsPerSecond`, `bytesPerSecond`, 2 s of burst); over it the
 * session ends with RateLimited. A link carries the host's *source* key (e.g. the client's IP address): per
 * source, links in handshake are capped (`maxPendingLinksPerSource`; a link past it is closed at once), their
 * datagrams share one session's budget, sessions are capped (`maxSessionsPerSource`, past it ServerFull) and
 * so are new sessions per second (`newSessionsPerSecondPerSource`, past it RateLimited). Other sources and
 * other sessions are never affected. Per-source memory is bounded (source-table.ts).
 *
 * Every end of a session — timeout, the peer's DISCONNECT, a local close, a refusal — goes through one place
 * (`ended`): the session leaves the table at once (its slot, timers and queues with it), the host hears
 * 'disconnected' exactly once if it had heard 'connected' ('refused' for an attempt that never was), and its links are
 * closed after `linger` ms, so the last datagrams (DISCONNECT, REJECT) can leave first.
 *
 * The host's loop: `linkOpened` / `handle` / `linkClosed` as transports report; then `poll(now)` for the
 * datagrams to send (each with its link), `pollEvent()` until undefined, and a timer for `nextTimeout()`.
 * Anything that queues output (handle, send, accept, close) makes `nextTimeout()` return now.
 */

import type { ConnectionOptions } from './connection-options.js';
import { Connection, type ConnectionState } from './connection.js';
import { constantTimeEqual } from './constant-time.js';
import { decodeControl, encodeControl, encodeRejectFor, SESSION_TOKEN_SIZE, type ControlPacket } from './control.js';
import { DatagramBudget, type DatagramRates } from './datagram-budget.js';
import { DeadlineQueue } from './deadline-queue.js';
import { packetKindOf, PacketKind } from './header.js';
import { Queue } from './queue.js';
import { randomBytes, type RandomSource } from './random.js';
import { DisconnectReason } from './reason.js';
import { ConfigError } from './errors.js';
import { SourceTable, type SourceLimits } from './source-table.js';

/** The defaults of ServerEndpointOptions (the server's `limits` use the same). */
export const SERVER_ENDPOINT_DEFAULTS = {
  maxSessions: 1000,
  handshakeTimeout: 10_000,
  linger: 100,
  packetsPerSecond: 1000,
  bytesPerSecond: 4 * 1024 * 1024,
  maxSessionsPerSource: 64,
  maxPendingLinksPerSource: 32,
  newSessionsPerSecondPerSource: 10,
} as const;

export interface ServerEndpointOptions {
  /** Options of every session's connection (channels, timeout, …). Retransmission follows each link. */
  connection?: Omit<ConnectionOptions, 'retransmission' | 'nonce' | 'random'>;
  /** Sessions at once (pending, connected or closing); past it a CONNECT is refused with ServerFull. Default 1000. */
  maxSessions?: number;
  /** A link that sends no valid CONNECT or RESUME within this many ms is closed. Default 10 000. */
  handshakeTimeout?: number;
  /** How long a session's links stay open after it ended, so its last datagrams leave first, ms. Default 100. */
  linger?: number;
  /**
   * Inbound datagrams per second per session, bursts of 2 s: every datagram routed to the session counts
   * (data, acks, pings, duplicates, malformed). Over it the session ends with RateLimited. Default 1000.
   */
  packetsPerSecond?: number;
  /** Inbound bytes per second per session (wire bytes of every datagram routed to it), bursts of 2 s. Default 4 MiB. */
  bytesPerSecond?: number;
  /** Sessions one source may have at once (pending, connected or closing); past it a CONNECT gets ServerFull. Default 64. */
  maxSessionsPerSource?: number;
  /** Links one source may have in handshake (no CONNECT or RESUME yet); a link past it is closed at once. Default 32. */
  maxPendingLinksPerSource?: number;
  /** New sessions one source may start per second, bursts of 2 s; past it a CONNECT gets RateLimited. Default 10. */
  newSessionsPerSecondPerSource?: number;
  /** Session ids and tokens: a cryptographic source in a real server, a seeded `Random` in tests. */
  random: RandomSource;
}

/** Links a session keeps at once (the one it sends on and the paths it just left); a RESUME on one more closes the oldest. */
export const MAX_LINKS_PER_SESSION = 3;

/** One session: a connection above its links (one to send on; at most MAX_LINKS_PER_SESSION). */
export class EndpointSession<L> {
  /** The link the session sends on (undefined between transports). */
  current: L | undefined;
  /** Every link still attached (during a move the old one may still deliver). */
  readonly links = new Set<L>();
  /** Whether the host heard 'connected' (and so will hear 'disconnected'). */
  announced = false;
  /** Set once the session ended: its reason, text and who ended it. */
  end: { reason: number; text: string; by: 'local' | 'peer' } | undefined;

  constructor(
    /** The protocol connection id: also what a client resumes with. */
    readonly id: number,
    readonly connection: Connection,
    /** The secret a RESUME must show. */
    readonly token: Uint8Array,
    /** The source of the link whose CONNECT started it (undefined: the host gave none). */
    readonly source: string | undefined,
    /** What its inbound datagrams may still cost (every datagram routed to it takes from it). */
    readonly inbound: DatagramBudget,
  ) {}

  get state(): ConnectionState {
    return this.connection.state;
  }
}

export type ServerEndpointEvent<L> =
  /** A client asks to connect (its CONNECT's payload): answer with accept() or reject(), now or later. */
  | { type: 'connect-request'; session: EndpointSession<L>; link: L; payload: Uint8Array }
  | { type: 'connected'; session: EndpointSession<L> }
  | { type: 'message'; session: EndpointSession<L>; channel: number; data: Uint8Array }
  /** A RESUME moved the session onto `link` (the previous link, if any, stays attached until it closes). */
  | { type: 'moved'; session: EndpointSession<L>; link: L; previous: L | undefined }
  /** The session ended; exactly once per session that was 'connected'. It is already out of the table. */
  | { type: 'disconnected'; session: EndpointSession<L>; reason: number; text: string; by: 'local' | 'peer' }
  /** A connect request ended without a session (rejected, or it timed out while the host decided). */
  | { type: 'refused'; session: EndpointSession<L>; reason: number; text: string }
  /** The host must close this link (handshake timeout, or its session ended and the linger passed). */
  | { type: 'close-link'; link: L; reason: string };

export interface Transmit<L> {
  link: L;
  datagram: Uint8Array;
}

/** What the endpoint refused or dropped, by why: for stats and tests. */
export interface ServerEndpointCounters {
  sessionsStarted: number;
  refusedFull: number;
  resumes: number;
  /** RESUME naming no session, the wrong token, or a session not connected. */
  resumesRefused: number;
  handshakeTimeouts: number;
  /** Data or unknown control packets on a link before its CONNECT or RESUME. */
  strayDatagrams: number;
  /** Sessions ended with RateLimited for their inbound datagrams (packetsPerSecond, bytesPerSecond). */
  rateLimited: number;
  /** CONNECTs refused because their source had maxSessionsPerSource sessions. */
  refusedPerSource: number;
  /** CONNECTs refused because their source passed newSessionsPerSecondPerSource. */
  refusedSourceRate: number;
  /** Links closed because a RESUME on a newer link left their session more than MAX_LINKS_PER_SESSION. */
  linksReplaced: number;
  /** Links closed at once because their source had maxPendingLinksPerSource links in handshake. */
  linksRefusedPerSource: number;
  /** Links in handshake closed because their source's handshake datagrams passed one session's budget. */
  handshakeFloods: number;
}

type LinkEntry<L> = { reliable: boolean; source: string | undefined } & (
  { state: 'unbound' } | { state: 'bound'; session: EndpointSession<L> } | { state: 'closing'; reason: string }
);

/** A deadline in the queue: a session's connection timer, a link's handshake or linger deadline, an idle source's sweep. */
type Due<L> = { session: EndpointSession<L> } | { link: L } | { source: string };

const MAX_ID_DRAWS = 64;

export class ServerEndpoint<L> {
  readonly counters: ServerEndpointCounters = {
    sessionsStarted: 0,
    refusedFull: 0,
    resumes: 0,
    resumesRefused: 0,
    handshakeTimeouts: 0,
    strayDatagrams: 0,
    rateLimited: 0,
    refusedPerSource: 0,
    refusedSourceRate: 0,
    linksReplaced: 0,
    linksRefusedPerSource: 0,
    handshakeFloods: 0,
  };
  private readonly sessions = new Map<number, EndpointSession<L>>();
  private readonly links = new Map<L, LinkEntry<L>>();
  private readonly dueKeys = new Map<EndpointSession<L> | L, Due<L>>();
  private readonly sourceKeys = new Map<string, Due<L>>();
  private readonly deadlines = new DeadlineQueue<Due<L>>();
  private readonly dirty = new Set<EndpointSession<L>>();
  private readonly events = new Queue<ServerEndpointEvent<L>>();
  private readonly outbox: Transmit<L>[] = [];
  private readonly maxSessions: number;
  private readonly handshakeTimeout: number;
  private readonly linger: number;
  private readonly random: RandomSource;
  private readonly sessionRates: DatagramRates;
  private readonly sourceLimits: SourceLimits;
  private readonly sources: SourceTable;
  private now = 0;

  constructor(private readonly options: ServerEndpointOptions) {
    const d = SERVER_ENDPOINT_DEFAULTS;
    this.maxSessions = positive('maxSessions', options.maxSessions ?? d.maxSessions);
    this.handshakeTimeout = positive('handshakeTimeout', options.handshakeTimeout ?? d.handshakeTimeout);
    this.linger = options.linger ?? d.linger;
    if (!(this.linger >= 0)) throw new ConfigError(`linger must be ≥ 0, got ${String(options.linger)}`);
    this.sessionRates = {
      packetsPerSecond: rate('packetsPerSecond', options.packetsPerSecond ?? d.packetsPerSecond),
      bytesPerSecond: rate('bytesPerSecond', options.bytesPerSecond ?? d.bytesPerSecond),
    };
    this.sourceLimits = {
      maxSessionsPerSource: positive('maxSessionsPerSource', options.maxSessionsPerSource ?? d.maxSessionsPerSource),
      maxPendingLinksPerSource: positive('maxPendingLinksPerSource', options.maxPendingLinksPerSource ?? d.maxPendingLinksPerSource),
      newSessionsPerSecondPerSource: rate(
        'newSessionsPerSecondPerSource',
        options.newSessionsPerSecondPerSource ?? d.newSessionsPerSecondPerSource,
      ),
      // A source's links in handshake together get what one session gets.
      handshake: this.sessionRates,
    };
    this.sources = new SourceTable(this.sourceLimits);
    this.random = options.random;
    // Fail now, not at the first client: the connection options must be valid.
    Connection.server(options.connection);
  }

  /** Sessions in the table: pending, connected or closing. Ended sessions are never counted. */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Links that have not said CONNECT or RESUME yet. */
  get unboundLinks(): number {
    let n = 0;
    for (const e of this.links.values()) if (e.state === 'unbound') n++;
    return n;
  }

  /** Sources the endpoint remembers: those with a link or a session, and idle ones until their buckets refill. */
  get sourceCount(): number {
    return this.sources.size;
  }

  session(id: number): EndpointSession<L> | undefined {
    return this.sessions.get(id);
  }

  allSessions(): IterableIterator<EndpointSession<L>> {
    return this.sessions.values();
  }

  // ---- what the host reports ------------------------------------------------------------------------

  /**
   * A transport accepted a new link. `reliable`: it is reliable and ordered itself (no retransmission on it).
   * `source`: where it comes from, for the per-source limits (the server passes the client's IP address);
   * undefined: no per-source limit applies to it. A link past `maxPendingLinksPerSource` is closed at once.
   */
  linkOpened(link: L, reliable: boolean, now: number, source?: string): void {
    this.tick(now);
    if (this.links.has(link)) return;
    if (source !== undefined) {
      const src = this.sources.entry(source, this.now);
      const max = this.sourceLimits.maxPendingLinksPerSource;
      if (src.pendingLinks >= max) {
        this.counters.linksRefusedPerSource++;
        this.events.push({ type: 'close-link', link, reason: `too many links in handshake from ${source} (${max})` });
        return;
      }
      src.pendingLinks++;
    }
    this.links.set(link, { state: 'unbound', reliable, source });
    this.deadlines.schedule(this.keyOf(link), this.now + this.handshakeTimeout);
  }

  /** The transport says the link died (the host closes nothing: it is gone). Its session waits for a RESUME. */
  linkClosed(link: L, now: number): void {
    this.tick(now);
    const entry = this.links.get(link);
    if (!entry) return;
    this.forgetLink(link);
    if (entry.state === 'bound') detach(entry.session, link);
  }

  /** One datagram that arrived on `link`. Never throws for any input. */
  handle(link: L, datagram: Uint8Array, now: number): void {
    this.tick(now);
    const entry = this.links.get(link);
    if (!entry || entry.state === 'closing') return;
    if (!this.admit(link, entry, datagram.length)) return;
    const control = packetKindOf(datagram) === PacketKind.Control ? tryDecodeControl(datagram) : undefined;
    if (control?.type === 'resume') return this.resume(link, entry, control.connectionId, control.token, datagram.length);
    if (entry.state === 'bound') {
      const s = entry.session;
      s.connection.handle(datagram, this.now);
      this.drain(s);
      this.dirty.add(s);
      return;
    }
    if (control?.type === 'connect') return this.start(link, entry, datagram);
    this.counters.strayDatagrams++;
  }

  // ---- what the host decides ------------------------------------------------------------------------

  /** Accepts a session's connect request. */
  accept(session: EndpointSession<L>, now: number): void {
    this.tick(now);
    if (session.state !== 'pending') return; // gave up meanwhile (timeout), or already answered
    session.connection.accept(this.now, session.id, session.token);
    this.serviced(session);
  }

  /** Refuses a session's connect request; the client learns `reason` and `text`. */
  reject(session: EndpointSession<L>, reason: number, text: string, now: number): void {
    this.tick(now);
    if (session.state !== 'pending') return;
    session.connection.reject(this.now, reason, text);
    this.serviced(session);
  }

  /** Queues a message (Connection.send's contract: copies `data`, throws SendError). */
  send(session: EndpointSession<L>, channel: number, data: Uint8Array, now: number): number | undefined {
    this.tick(now);
    const id = session.connection.send(channel, data, this.now);
    this.dirty.add(session);
    return id;
  }

  /** Queues a message, or returns false when the session cannot hold it now (Connection.trySend's contract). */
  trySend(session: EndpointSession<L>, channel: number, data: Uint8Array, now: number): boolean {
    this.tick(now);
    if (!session.connection.trySend(channel, data, this.now)) return false;
    this.dirty.add(session);
    return true;
  }

  /** Ends a session: the client is told `reason` and `text` (DISCONNECT, or REJECT if still pending). */
  close(session: EndpointSession<L>, reason: number, text: string, now: number): void {
    this.tick(now);
    if (session.end) return;
    session.connection.disconnect(this.now, reason, text);
    this.serviced(session);
  }

  /** Ends every session (e.g. the server shutting down): each client is told why. */
  closeAll(reason: number, text: string, now: number): void {
    for (const s of [...this.sessions.values()]) this.close(s, reason, text, now);
  }

  /** Closes the session's current link at the host's request (the client may resume elsewhere). */
  dropLink(session: EndpointSession<L>, now: number): L | undefined {
    this.tick(now);
    const link = session.current;
    if (link === undefined) return undefined;
    this.forgetLink(link);
    detach(session, link);
    return link;
  }

  // ---- output, events, time -------------------------------------------------------------------------

  /** Runs everything due at `now` and returns the datagrams to send, each with its link. */
  poll(now: number): Transmit<L>[] {
    this.tick(now);
    for (const due of this.deadlines.takeDue(this.now)) {
      if ('session' in due) this.dirty.add(due.session);
      else if ('link' in due) this.linkDeadline(due.link);
      else this.sourceDeadline(due.source);
    }
    // Servicing a session can end it (and never re-dirties another), so this terminates.
    for (const s of [...this.dirty]) this.service(s);
    return this.outbox.splice(0);
  }

  pollEvent(): ServerEndpointEvent<L> | undefined {
    return this.events.shift();
  }

  /** When poll() must run next (absolute ms; Infinity: nothing scheduled). */
  nextTimeout(): number {
    if (this.dirty.size > 0 || this.outbox.length > 0) return this.now;
    return Math.max(this.now, this.deadlines.next());
  }

  // ---- internals ------------------------------------------------------------------------------------

  /**
   * Charges one inbound datagram: to its session's budget, or to its source's while the link is in handshake.
   * False: drop it (whatever went over its budget was cut: the session, or the link in handshake).
   */
  private admit(link: L, entry: LinkEntry<L>, size: number): boolean {
    if (entry.state === 'bound') {
      const s = entry.session;
      const over = s.inbound.take(size, this.now);
      if (over === undefined) return true;
      if (s.state === 'pending' || s.state === 'connected') {
        this.counters.rateLimited++;
        this.close(s, DisconnectReason.RateLimited, `rate limit: ${s.inbound.describe(over)}`, this.now);
      }
      return false;
    }
    const src = entry.source === undefined ? undefined : this.sources.get(entry.source);
    if (!src) return true;
    const over = src.handshake.take(size, this.now);
    if (over === undefined) return true;
    this.counters.handshakeFloods++;
    this.forgetLink(link);
    this.events.push({ type: 'close-link', link, reason: `handshake datagrams from ${entry.source}: ${src.handshake.describe(over)}` });
    return false;
  }

  private start(link: L, entry: LinkEntry<L>, connect: Uint8Array): void {
    const src = entry.source === undefined ? undefined : this.sources.get(entry.source);
    const limits = this.sourceLimits;
    let refusal: { reason: number; text: string } | undefined;
    if (src && src.sessions >= limits.maxSessionsPerSource) {
      this.counters.refusedPerSource++;
      refusal = { reason: DisconnectReason.ServerFull, text: `too many sessions from one address (${limits.maxSessionsPerSource})` };
    } else if (src && !src.newSessions.take(1, this.now)) {
      this.counters.refusedSourceRate++;
      refusal = {
        reason: DisconnectReason.RateLimited,
        text: `over ${limits.newSessionsPerSecondPerSource} new sessions/s from one address`,
      };
    }
    const id = refusal || this.sessions.size >= this.maxSessions ? 0 : this.freshId();
    const connection = Connection.server({ ...this.options.connection, retransmission: !entry.reliable });
    if (id === 0) {
      // Refused without a session: a throwaway connection answers (REJECT, never larger than the CONNECT).
      if (!refusal) {
        this.counters.refusedFull++;
        refusal = { reason: DisconnectReason.ServerFull, text: `server full (${this.maxSessions} sessions)` };
      }
      connection.handle(connect, this.now);
      if (connection.state === 'pending') connection.reject(this.now, refusal.reason, refusal.text);
      for (const datagram of connection.poll(this.now)) this.outbox.push({ link, datagram });
      return;
    }
    const token = randomBytes(this.random, SESSION_TOKEN_SIZE);
    const session = new EndpointSession<L>(id, connection, token, entry.source, new DatagramBudget(this.sessionRates, this.now));
    if (src) src.sessions++;
    this.counters.sessionsStarted++;
    this.sessions.set(id, session);
    this.bind(link, session);
    connection.handle(connect, this.now);
    this.drain(session, link);
    this.dirty.add(session);
  }

  private resume(link: L, entry: LinkEntry<L>, id: number, token: Uint8Array, size: number): void {
    const session = this.sessions.get(id);
    const tokenOk = session !== undefined && constantTimeEqual(token, session.token);
    const owner = entry.state === 'bound' ? entry.session : undefined;
    if (!session || !tokenOk || session.state !== 'connected' || (owner && owner !== session)) {
      this.counters.resumesRefused++;
      this.outbox.push({ link, datagram: encodeRejectFor(size, id, DisconnectReason.UnknownSession, 'unknown session or wrong token') });
      return;
    }
    if (!session.links.has(link)) {
      const previous = session.current;
      this.bind(link, session);
      session.connection.transportChanged(this.now, entry.reliable);
      this.counters.resumes++;
      this.events.push({ type: 'moved', session, link, previous });
      // A session keeps its newest links only: RESUMEs on ever new links cannot pile links up (a lockout of
      // the transports' link tables, and memory no limit counts).
      for (const old of session.links) {
        if (session.links.size <= MAX_LINKS_PER_SESSION) break;
        if (old === link) continue;
        detach(session, old);
        this.forgetLink(old);
        this.counters.linksReplaced++;
        this.events.push({ type: 'close-link', link: old, reason: 'replaced by newer links of its session' });
      }
    }
    // Every RESUME is answered (the client repeats it until RESUMED arrives), never with more bytes.
    this.outbox.push({ link, datagram: encodeControl({ type: 'resumed', connectionId: id }) });
    this.dirty.add(session);
  }

  private bind(link: L, session: EndpointSession<L>): void {
    const entry = this.links.get(link)!;
    if (entry.state === 'unbound') this.released(entry.source, 'pendingLinks');
    this.links.set(link, { state: 'bound', reliable: entry.reliable, source: entry.source, session });
    this.deadlines.remove(this.keyOf(link));
    session.links.add(link);
    session.current = link;
  }

  /** Polls a session's connection, sends its output on its current link, reads its events, reschedules it. */
  private service(session: EndpointSession<L>): void {
    this.dirty.delete(session);
    if (session.end) return;
    const out = session.connection.poll(this.now);
    const link = session.current;
    if (link !== undefined) for (const datagram of out) this.outbox.push({ link, datagram });
    this.drain(session);
    if (!session.end) this.deadlines.schedule(this.keyOf(session), session.connection.nextTimeout());
  }

  /** After the host changed a session (accept, reject, close): its events now, its output at the next poll. */
  private serviced(session: EndpointSession<L>): void {
    this.drain(session);
    if (!session.end) this.dirty.add(session);
  }

  /** Moves a connection's events to the endpoint's queue; an end frees the session (see `ended`). */
  private drain(session: EndpointSession<L>, link?: L): void {
    const c = session.connection;
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      switch (e.type) {
        case 'connect-request':
          this.events.push({ type: 'connect-request', session, link: link ?? session.current!, payload: e.payload });
          break;
        case 'connected':
          session.announced = true;
          this.events.push({ type: 'connected', session });
          break;
        case 'message':
          this.events.push({ type: 'message', session, channel: e.channel, data: e.data });
          break;
        case 'disconnected':
          this.ended(session, e.reason, e.text, e.by);
          break;
      }
    }
  }

  /** The one place a session ends. */
  private ended(session: EndpointSession<L>, reason: number, text: string, by: 'local' | 'peer'): void {
    if (session.end) return;
    session.end = { reason, text, by };
    // Whatever the connection still has to say (a REJECT, the last DISCONNECT) goes out before the links close.
    const link = session.current;
    if (link !== undefined) for (const datagram of session.connection.poll(this.now)) this.outbox.push({ link, datagram });
    this.sessions.delete(session.id);
    this.dirty.delete(session);
    this.deadlines.remove(this.keyOf(session));
    this.dueKeys.delete(session);
    this.released(session.source, 'sessions');
    for (const l of session.links) {
      this.links.set(l, { state: 'closing', reliable: false, source: undefined, reason: `session ended: ${text || reason}` });
      this.deadlines.schedule(this.keyOf(l), this.now + this.linger);
    }
    session.links.clear();
    session.current = undefined;
    if (session.announced) this.events.push({ type: 'disconnected', session, reason, text, by });
    else this.events.push({ type: 'refused', session, reason, text });
  }

  private linkDeadline(link: L): void {
    const entry = this.links.get(link);
    if (!entry || entry.state === 'bound') return;
    this.forgetLink(link);
    if (entry.state === 'unbound') {
      this.counters.handshakeTimeouts++;
      this.events.push({ type: 'close-link', link, reason: `no CONNECT or RESUME within ${this.handshakeTimeout} ms` });
    } else {
      this.events.push({ type: 'close-link', link, reason: entry.reason });
    }
  }

  private forgetLink(link: L): void {
    const entry = this.links.get(link);
    if (entry?.state === 'unbound') this.released(entry.source, 'pendingLinks');
    this.links.delete(link);
    this.deadlines.remove(this.keyOf(link));
    this.dueKeys.delete(link);
  }

  /** A source's link left its handshake, or its session ended: once the source has neither, it is swept later. */
  private released(source: string | undefined, what: 'pendingLinks' | 'sessions'): void {
    const src = source === undefined ? undefined : this.sources.get(source);
    if (!src) return;
    src[what]--;
    if (src.idle) this.deadlines.schedule(this.sourceKey(source!), Math.max(this.now, src.fullAt(this.now)));
  }

  /** An idle source's buckets should be full: forget it (or look again when they will be). */
  private sourceDeadline(source: string): void {
    const again = this.sources.sweep(source, this.now);
    if (again !== undefined) this.deadlines.schedule(this.sourceKey(source), again);
    else if (!this.sources.get(source)) this.sourceKeys.delete(source);
  }

  private sourceKey(source: string): Due<L> {
    let key = this.sourceKeys.get(source);
    if (!key) {
      key = { source };
      this.sourceKeys.set(source, key);
    }
    return key;
  }

  /** A fresh non-zero session id, or 0 if the draws keep colliding (treated as full). */
  private freshId(): number {
    for (let i = 0; i < MAX_ID_DRAWS; i++) {
      const id = this.random.nextU32() >>> 0;
      if (id !== 0 && !this.sessions.has(id)) return id;
    }
    return 0;
  }

  /** The deadline-queue key of a session or a link (one object per item, so rescheduling replaces). */
  private keyOf(item: EndpointSession<L> | L): Due<L> {
    let key = this.dueKeys.get(item);
    if (!key) {
      key = item instanceof EndpointSession ? { session: item } : { link: item };
      this.dueKeys.set(item, key);
    }
    return key;
  }

  private tick(now: number): void {
    if (now > this.now) this.now = now;
  }
}

function detach<L>(session: EndpointSession<L>, link: L): void {
  session.links.delete(link);
  if (session.current === link) session.current = [...session.links].at(-1);
}

function tryDecodeControl(d: Uint8Array): ControlPacket | undefined {
  try {
    return decodeControl(d);
  } catch {
    return undefined; // malformed: a bound session's connection counts it
  }
}

function positive(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new ConfigError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function rate(name: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new ConfigError(`${name} must be a positive finite number, got ${String(v)}`);
  return v;
}
