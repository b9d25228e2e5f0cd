/**
 * An endpoint pair over LinkSimulator: one ServerEndpoint<number> and any number of ClientEndpoint<number>
 * in simulated time, the way simulation.ts drives two Connections. Links and paths are the same numbers:
 * link n is one LinkSimulator whose 'a-to-b' direction is client → server ("up") and 'b-to-a' server →
 * client ("down").
 *
 * The loop jumps to the earliest of the endpoints' nextTimeout(), the links' next deliveries and the
 * scheduled actions; there it runs the due actions, delivers the due datagrams, polls every endpoint and
 * plays both hosts:
 *  - the server host answers connect requests (`decide`: accept, reject, ignore, possibly later) and closes
 *    a link on 'close-link';
 *  - a client host closes the previous path on 'path-changed', a refused path on 'path-refused', and all
 *    its links when its session ended;
 *  - a close is seen by the other side (pathClosed / linkClosed, after the datagrams already on the wire)
 *    only if `signalCloses` (a WebSocket does, raw UDP does not).
 *
 * While it runs it checks what must always hold and throws (naming the seed) the moment it does not:
 * at most one end per session per side and nothing after it, 'connected' before 'disconnected', every
 * numbered message on channel 0 (reliable-ordered) delivered exactly once and in order, and the server's
 * sessionCount equal to the sessions the harness saw start and not end.
 *
 * Every random draw comes from `new Random(seed)`: the server's ids and tokens, each client's nonce and each
 * link's impairments are drawn from streams seeded from it, in creation order.
 */

import {
  ClientEndpoint,
  decodeControl,
  LinkSimulator,
  packetKindOf,
  PacketKind,
  Random,
  SendError,
  ServerEndpoint,
  type ClientEndpointEvent,
  type ClientEndpointOptions,
  type DropRule,
  type EndpointSession,
  type LinkConditions,
  type LinkDirection,
  type ServerEndpointEvent,
  type ServerEndpointOptions,
} from '../src/index.js';
import { TimeHeap } from '../src/time-heap.js';

const UP: LinkDirection = 'a-to-b';
const DOWN: LinkDirection = 'b-to-a';

/** The channel numbered messages travel on (reliable-ordered in the default layout). */
export const NUMBERED_CHANNEL = 0;

export interface SimLinkOptions {
  conditions?: LinkConditions;
  /** Overrides per direction (see LinkOptions.aToB / bToA): `up` is client → server. */
  up?: LinkConditions;
  down?: LinkConditions;
  rules?: DropRule[];
  /** The transport is reliable and ordered itself (no retransmission on it). Default false. */
  reliable?: boolean;
  /** The link's source for the server's per-source limits (e.g. an IP address). Default none. */
  source?: string;
}

/** The server host's answer to a connect request; `after` ms later (default at once). */
export type Decision = { accept: true; after?: number } | { reject: number; text?: string; after?: number } | { ignore: true };

export interface EndpointSimOptions {
  seed: number;
  server?: Omit<ServerEndpointOptions, 'random'>;
  client?: Omit<ClientEndpointOptions, 'random'>;
  /** Default for every link. */
  link?: SimLinkOptions;
  /** Whether the far side of a link hears that it closed. Default true. */
  signalCloses?: boolean;
  /** The server host's decision on every connect request. Default: accept at once. */
  decide?: (request: { session: SimSession; link: number; payload: Uint8Array }) => Decision;
  /** Called after the harness's own host reaction to each event (e.g. to open a new path on 'path-lost'). */
  onClientEvent?: (client: SimClient, event: ClientEndpointEvent<number>, now: number) => void;
  onServerEvent?: (event: ServerEndpointEvent<number>, now: number) => void;
  /** Keep every datagram's bytes (hex) in the wire log. Default false. */
  recordBytes?: boolean;
  /** Bound on the steps of each run call. Default 500 000. */
  maxSteps?: number;
}

/** One datagram put on a link. */
export interface Wire {
  time: number;
  link: number;
  dir: 'up' | 'down';
  size: number;
  /** The control packet's type, 'data', or 'garbage'. */
  kind: string;
  hex?: string;
}

export class SimLink {
  /** Who closed it (undefined: open). After a host's close, what it had sent still reaches the far side. */
  closedBy: 'client' | 'server' | 'network' | undefined;
  /** Every datagram is dropped from now on, without a close signal (the path died silently). */
  dead = false;
  readonly log: Wire[] = [];
  /** Datagrams that reached the client end of a link with no client (crafted tests). */
  readonly arrived: Uint8Array[] = [];
  /** The latest arrival time scheduled in each direction, so a close signal follows the data. */
  readonly lastArrival: Record<LinkDirection, number> = { 'a-to-b': -Infinity, 'b-to-a': -Infinity };
  readonly sim: LinkSimulator;

  constructor(
    readonly id: number,
    readonly client: SimClient | undefined,
    readonly reliable: boolean,
    seed: number,
    options: SimLinkOptions,
  ) {
    this.sim = new LinkSimulator({
      seed,
      ...(options.conditions ? { conditions: options.conditions } : {}),
      ...(options.up ? { aToB: options.up } : {}),
      ...(options.down ? { bToA: options.down } : {}),
      rules: [() => this.dead, ...(options.rules ?? [])],
      trace: (e) => {
        if (e.type === 'pass') this.lastArrival[e.direction] = Math.max(this.lastArrival[e.direction], e.deliverAt);
      },
    });
  }

  /** The sizes of the datagrams of one kind sent one way. */
  sizes(dir: 'up' | 'down', kind: string): number[] {
    return this.log.filter((w) => w.dir === dir && w.kind === kind).map((w) => w.size);
  }

  deliverable(direction: LinkDirection): boolean {
    if (this.dead || this.closedBy === 'network') return false;
    if (this.closedBy === 'client') return direction === UP;
    if (this.closedBy === 'server') return direction === DOWN;
    return true;
  }
}

export class SimClient {
  readonly events: Array<{ t: number; e: ClientEndpointEvent<number> }> = [];
  /** Numbered messages received on channel 0, in delivery order. */
  readonly received: number[] = [];
  /** Numbered messages queued so far (the next one's number). */
  sent = 0;
  connected = false;
  end: { t: number; reason: number; text: string; by: 'local' | 'peer' } | undefined;
  /** Every link this client opened, in order. */
  readonly links: SimLink[] = [];

  constructor(
    readonly name: string,
    readonly endpoint: ClientEndpoint<number>,
  ) {}

  count(type: ClientEndpointEvent<number>['type']): number {
    return this.events.filter(({ e }) => e.type === type).length;
  }
}

export class SimSession {
  readonly events: Array<{ t: number; e: ServerEndpointEvent<number> }> = [];
  readonly received: number[] = [];
  sent = 0;
  connected = false;
  end: { t: number; type: 'disconnected' | 'refused'; reason: number; text: string; by?: 'local' | 'peer' } | undefined;

  constructor(
    readonly session: EndpointSession<number>,
    /** The client whose link asked for it (undefined: a crafted link). */
    readonly client: SimClient | undefined,
  ) {}

  count(type: ServerEndpointEvent<number>['type']): number {
    return this.events.filter(({ e }) => e.type === type).length;
  }
}

export class EndpointSim {
  readonly seed: number;
  readonly server: ServerEndpoint<number>;
  readonly clients: SimClient[] = [];
  readonly links: SimLink[] = [];
  readonly sessions = new Map<EndpointSession<number>, SimSession>();
  /** Every server event, with its time. */
  readonly serverEvents: Array<{ t: number; e: ServerEndpointEvent<number> }> = [];
  private time = 0;
  private readonly master: Random;
  private readonly actions = new TimeHeap<(now: number) => void>();
  private readonly maxSteps: number;
  private readonly signalCloses: boolean;

  constructor(private readonly options: EndpointSimOptions) {
    this.seed = options.seed;
    this.master = new Random(options.seed);
    this.maxSteps = options.maxSteps ?? 500_000;
    this.signalCloses = options.signalCloses ?? true;
    this.server = new ServerEndpoint<number>({ ...options.server, random: this.stream() });
  }

  get now(): number {
    return this.time;
  }

  /** "[seed N, t=T ms]": for failure messages. */
  get label(): string {
    return `[endpoint-sim seed ${this.seed}, t=${this.time} ms]`;
  }

  // ---- what a test does ---------------------------------------------------------------------------

  /** A new client: opens a link for it and connects on it at once. */
  addClient(options: { link?: SimLinkOptions; payload?: Uint8Array; client?: Omit<ClientEndpointOptions, 'random'> } = {}): SimClient {
    const endpoint = new ClientEndpoint<number>({ ...this.options.client, ...options.client, random: this.stream() });
    const client = new SimClient(`client${this.clients.length}`, endpoint);
    this.clients.push(client);
    const link = this.openLink(client, options.link);
    endpoint.connect(link.id, link.reliable, options.payload ?? new Uint8Array(0), this.time);
    return client;
  }

  /** The client host opened another transport and hands it to the endpoint (addPath). */
  addPath(client: SimClient, options?: SimLinkOptions): SimLink {
    const link = this.openLink(client, options);
    client.endpoint.addPath(link.id, link.reliable, this.time);
    return link;
  }

  /** A link the server sees open; `client` undefined: nobody is behind it but the test (see `inject`). */
  openLink(client: SimClient | undefined, options: SimLinkOptions = this.options.link ?? {}): SimLink {
    const link = new SimLink(this.links.length, client, options.reliable ?? false, this.master.nextU32(), options);
    this.links.push(link);
    client?.links.push(link);
    this.server.linkOpened(link.id, link.reliable, this.time, options.source);
    return link;
  }

  /** Puts a crafted datagram on a link, client → server, now. */
  inject(link: SimLink, datagram: Uint8Array): void {
    this.transmit(link, UP, datagram);
  }

  /**
   * Closes a link. 'client' / 'server': that host closed it (its endpoint knows at once; what it sent still
   * arrives; the far side hears of it after that, if closes are signalled). 'network': the transport broke:
   * nothing more arrives, both sides hear of it at once if closes are signalled.
   */
  closeLink(link: SimLink, by: 'client' | 'server' | 'network'): void {
    if (link.closedBy !== undefined) return;
    link.closedBy = by;
    const now = this.time;
    const toServer = (): void => this.server.linkClosed(link.id, this.time);
    const toClient = (): void => link.client?.endpoint.pathClosed(link.id, this.time);
    if (by === 'client') toClient();
    if (!this.signalCloses) return;
    if (by === 'network') {
      toServer();
      toClient();
    } else if (by === 'client') {
      this.at(Math.max(now, link.lastArrival[UP]) + 1, toServer);
    } else {
      this.at(Math.max(now, link.lastArrival[DOWN]) + 1, toClient);
    }
  }

  /** Queues `count` numbered messages from the client (fewer on back-pressure or once closed); returns how many. */
  clientSend(client: SimClient, count = 1): number {
    return this.sendNumbered(
      count,
      () => client.sent,
      (data) => client.endpoint.send(NUMBERED_CHANNEL, data, this.time),
      () => client.sent++,
    );
  }

  /** Queues `count` numbered messages from the server to a session; returns how many. */
  serverSend(s: SimSession, count = 1): number {
    return this.sendNumbered(
      count,
      () => s.sent,
      (data) => this.server.send(s.session, NUMBERED_CHANNEL, data, this.time),
      () => s.sent++,
    );
  }

  /** The server's side of a client's session (the one its connect link asked for). */
  sessionOf(client: SimClient): SimSession | undefined {
    for (const s of this.sessions.values()) if (s.client === client) return s;
    return undefined;
  }

  /** Sessions the harness saw start and not end: what server.sessionCount must say. */
  aliveSessions(): SimSession[] {
    return [...this.sessions.values()].filter((s) => s.end === undefined);
  }

  /** Runs `action` at absolute time `time` (now if earlier), before that step's deliveries and polls. */
  at(time: number, action: (now: number) => void): void {
    this.actions.push(Math.max(time, this.time), action);
  }

  runUntil(time: number): void {
    this.run(time, undefined);
  }

  /** Runs while `predicate()` holds, at most until `deadline`; true if it stopped holding. */
  runWhile(predicate: () => boolean, deadline: number): boolean {
    return this.run(deadline, predicate);
  }

  /** Throws (naming the seed) unless `ok`. */
  check(ok: boolean, what: string): void {
    if (!ok) throw new Error(`${this.label} ${what}`);
  }

  /** Every connection's internal errors are 0 (bugs of ours, never the peer's bytes). */
  checkHealthy(): void {
    for (const c of this.clients) {
      if (c.endpoint.state !== 'idle') this.check(c.endpoint.connection.stats().internalErrors === 0, `${c.name}: internal errors`);
    }
    for (const s of this.sessions.values())
      this.check(s.session.connection.stats().internalErrors === 0, `session ${s.session.id}: internal errors`);
  }

  /** Every datagram on every link, in send order: "time link dir kind size [hex]". */
  wire(): string[] {
    return this.links
      .flatMap((l) => l.log)
      .sort((a, b) => a.time - b.time)
      .map((w) => `${w.time} L${w.link} ${w.dir} ${w.kind} ${w.size}${w.hex ? ` ${w.hex}` : ''}`);
  }

  // ---- the loop -----------------------------------------------------------------------------------

  private run(target: number, predicate: (() => boolean) | undefined): boolean {
    this.check(Number.isFinite(target) && target >= this.time, `run target ${target} is not finite or before now`);
    for (let steps = 0; ; steps++) {
      if (predicate !== undefined && !predicate()) return true;
      if (steps > 0 && this.time === target && this.nextEventTime() > target) return false;
      this.check(steps < this.maxSteps, `more than ${this.maxSteps} steps: something asks to be woken at now forever`);
      this.step(target);
    }
  }

  private nextEventTime(): number {
    let t = Math.min(this.server.nextTimeout(), this.actions.peekTime());
    for (const c of this.clients) t = Math.min(t, c.endpoint.nextTimeout());
    for (const l of this.links) t = Math.min(t, l.sim.nextDeliveryTime());
    this.check(!Number.isNaN(t), 'NaN from nextTimeout()');
    return t;
  }

  private step(target: number): void {
    const now = (this.time = Math.max(this.time, Math.min(this.nextEventTime(), target)));
    while (this.actions.peekTime() <= now) this.actions.pop()(now);
    for (const link of this.links) {
      for (const { direction, datagram } of link.sim.deliver(now)) {
        if (!link.deliverable(direction)) continue;
        if (direction === UP) this.server.handle(link.id, datagram, now);
        else if (link.client) link.client.endpoint.handle(link.id, datagram, now);
        else link.arrived.push(datagram);
      }
    }
    for (const t of this.server.poll(now)) this.transmit(this.links[t.link]!, DOWN, t.datagram);
    for (let e = this.server.pollEvent(); e; e = this.server.pollEvent()) {
      this.onServerEvent(e);
      this.options.onServerEvent?.(e, now);
    }
    for (const c of this.clients) {
      for (const t of c.endpoint.poll(now)) this.transmit(this.links[t.path]!, UP, t.datagram);
      for (let e = c.endpoint.pollEvent(); e; e = c.endpoint.pollEvent()) {
        this.onClientEvent(c, e);
        this.options.onClientEvent?.(c, e, now);
      }
    }
    const alive = this.aliveSessions().length;
    this.check(this.server.sessionCount === alive, `server.sessionCount ${this.server.sessionCount}, but ${alive} session(s) alive`);
  }

  private transmit(link: SimLink, direction: LinkDirection, datagram: Uint8Array): void {
    if (link.closedBy !== undefined) return; // nobody sends on a closed transport
    const w: Wire = {
      time: this.time,
      link: link.id,
      dir: direction === UP ? 'up' : 'down',
      size: datagram.length,
      kind: kindOf(datagram),
    };
    if (this.options.recordBytes) w.hex = Buffer.from(datagram).toString('hex');
    link.log.push(w);
    link.sim.send(direction, datagram, this.time);
  }

  // ---- the hosts ----------------------------------------------------------------------------------

  private onServerEvent(e: ServerEndpointEvent<number>): void {
    const now = this.time;
    this.serverEvents.push({ t: now, e });
    if (e.type === 'close-link') return this.closeLink(this.links[e.link]!, 'server');
    let s = this.sessions.get(e.session);
    if (e.type === 'connect-request') {
      this.check(s === undefined, `a second connect-request for session ${e.session.id}`);
      s = new SimSession(e.session, this.links[e.link]!.client);
      this.sessions.set(e.session, s);
    } else if (s === undefined) {
      // Refused before the host heard of it (e.g. a channel mismatch): never alive.
      this.check(e.type === 'refused', `'${e.type}' for session ${e.session.id}, never requested`);
      s = new SimSession(e.session, undefined);
      this.sessions.set(e.session, s);
    }
    this.check(s.end === undefined, `server '${e.type}' for session ${e.session.id} after it ended`);
    s.events.push({ t: now, e });
    switch (e.type) {
      case 'connect-request':
        return this.answer(s, e.link, e.payload);
      case 'connected':
        this.check(!s.connected, `a second 'connected' for session ${s.session.id}`);
        s.connected = true;
        return;
      case 'message':
        this.check(s.connected, `a message for session ${s.session.id} before 'connected'`);
        if (e.channel === NUMBERED_CHANNEL) this.numbered(s.received, e.data, `server (session ${s.session.id})`);
        return;
      case 'moved':
        this.check(s.connected, `'moved' for session ${s.session.id} before 'connected'`);
        return;
      case 'disconnected':
        this.check(s.connected, `'disconnected' for session ${s.session.id} that was never 'connected'`);
        this.check(this.server.session(s.session.id) !== s.session, `session ${s.session.id} still in the table after 'disconnected'`);
        s.end = { t: now, type: 'disconnected', reason: e.reason, text: e.text, by: e.by };
        return;
      case 'refused':
        this.check(!s.connected, `'refused' for session ${s.session.id} that was 'connected'`);
        s.end = { t: now, type: 'refused', reason: e.reason, text: e.text };
        return;
    }
  }

  private answer(s: SimSession, link: number, payload: Uint8Array): void {
    const d = this.options.decide?.({ session: s, link, payload }) ?? { accept: true };
    if ('ignore' in d) return;
    const act = (now: number): void => {
      if ('accept' in d) this.server.accept(s.session, now);
      else this.server.reject(s.session, d.reject, d.text ?? '', now);
    };
    if (d.after === undefined) act(this.time);
    else this.at(this.time + d.after, act);
  }

  private onClientEvent(c: SimClient, e: ClientEndpointEvent<number>): void {
    const now = this.time;
    this.check(c.end === undefined, `${c.name}: '${e.type}' after 'disconnected'`);
    c.events.push({ t: now, e });
    switch (e.type) {
      case 'connected':
        this.check(!c.connected, `${c.name}: a second 'connected'`);
        c.connected = true;
        return;
      case 'message':
        this.check(c.connected, `${c.name}: a message before 'connected'`);
        if (e.channel === NUMBERED_CHANNEL) this.numbered(c.received, e.data, c.name);
        return;
      case 'path-changed':
        if (e.previous !== undefined) this.closeLink(this.links[e.previous]!, 'client');
        return;
      case 'path-refused':
        return this.closeLink(this.links[e.path]!, 'client');
      case 'path-lost':
        return; // the test decides whether a new path comes
      case 'disconnected':
        c.end = { t: now, reason: e.reason, text: e.text, by: e.by };
        for (const l of c.links) this.closeLink(l, 'client');
        return;
    }
  }

  private numbered(received: number[], data: Uint8Array, who: string): void {
    const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
    this.check(
      n === received.length,
      `${who}: reliable-ordered message ${n} delivered, expected ${received.length} (duplicate, gap or reorder)`,
    );
    received.push(n);
  }

  private sendNumbered(count: number, next: () => number, send: (data: Uint8Array) => void, sent: () => void): number {
    let n = 0;
    for (; n < count; n++) {
      try {
        send(numberedMessage(next()));
      } catch (e) {
        if (e instanceof SendError && (e.code === 'backpressure' || e.code === 'closed')) break;
        throw e;
      }
      sent();
    }
    return n;
  }

  /** A fresh seeded stream from the master generator. */
  private stream(): Random {
    return new Random(this.master.nextU32());
  }
}

/** A datagram's kind for the wire log. */
export function kindOf(datagram: Uint8Array): string {
  const kind = packetKindOf(datagram);
  if (kind === undefined) return 'garbage';
  if (kind !== PacketKind.Control) return 'data';
  try {
    return decodeControl(datagram).type;
  } catch {
    return 'garbage';
  }
}

/** A numbered message: its number as a big-endian u32, then padding. */
function numberedMessage(n: number): Uint8Array {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setUint32(0, n);
  return data;
}
