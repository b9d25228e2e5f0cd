/**
 * Two Connections, a server and a client, driven against each other over a LinkSimulator in simulated
 * time. The quickest way to test a game's networking (or the protocol) deterministically:
 *
 *   const pair = new ConnectionPair({ link: { seed: 7, conditions: { loss: 0.1, latency: 40 } } });
 *   pair.sim.at(1000, () => pair.client.send(0, bytes));
 *   pair.sim.runUntil(5000);
 *
 * The server host accepts every connect request (or asks `accept`); the client starts connecting at `start`.
 */

import { Connection, type ConnectionEvent } from './connection.js';
import type { ConnectionOptions } from './connection-options.js';
import { SESSION_TOKEN_SIZE } from './control.js';
import { LinkSimulator, type LinkOptions } from './link-simulator.js';
import { Random, randomBytes } from './random.js';
import { Simulation, type SimEndpoint } from './simulation.js';

export interface ConnectionPairOptions {
  server?: ConnectionOptions;
  client?: ConnectionOptions;
  /** Default: seed 1, a perfect link. */
  link?: LinkOptions;
  /** Server host's decision on a connect request: a connection id to accept, or a reason code to reject. Default: accept as id 1. */
  accept?: (payload: Uint8Array) => { connectionId: number } | { reject: number; text?: string };
  /** Seed of the session tokens the server hands out (the client's nonce is 1 unless options.client says otherwise). Default 1. */
  seed?: number;
  /** Client connect payload. */
  payload?: Uint8Array;
  /** Simulated start time (ms). Default 0. */
  start?: number;
  /** Every event each side emits, with the simulated time. */
  onServerEvent?: (event: ConnectionEvent, now: number) => void;
  onClientEvent?: (event: ConnectionEvent, now: number) => void;
}

class Host implements SimEndpoint {
  constructor(
    readonly connection: Connection,
    private readonly onEvent: (e: ConnectionEvent, now: number) => void,
  ) {}

  handle(datagram: Uint8Array, now: number): void {
    this.connection.handle(datagram, now);
    this.drain(now);
  }

  poll(now: number): Uint8Array[] {
    const out = this.connection.poll(now);
    this.drain(now);
    return out;
  }

  nextTimeout(): number {
    return this.connection.nextTimeout();
  }

  drain(now: number): void {
    for (let e = this.connection.pollEvent(); e; e = this.connection.pollEvent()) this.onEvent(e, now);
  }
}

export class ConnectionPair {
  readonly server: Connection;
  readonly client: Connection;
  readonly link: LinkSimulator;
  /** Server is endpoint a, client endpoint b: link direction 'a-to-b' is server → client. */
  readonly sim: Simulation;

  constructor(options: ConnectionPairOptions = {}) {
    const start = options.start ?? 0;
    this.server = Connection.server(options.server);
    this.client = Connection.client({ nonce: 1, ...options.client });
    this.link = new LinkSimulator(options.link ?? { seed: 1 });
    const decide = options.accept ?? (() => ({ connectionId: 1 }));
    const random = new Random(options.seed ?? 1);
    const serverHost = new Host(this.server, (e, now) => {
      if (e.type === 'connect-request') {
        const d = decide(e.payload);
        if ('connectionId' in d) this.server.accept(now, d.connectionId, randomBytes(random, SESSION_TOKEN_SIZE));
        else this.server.reject(now, d.reject, d.text);
      }
      options.onServerEvent?.(e, now);
    });
    const clientHost = new Host(this.client, (e, now) => options.onClientEvent?.(e, now));
    this.sim = new Simulation(serverHost, clientHost, this.link, { start });
    this.client.connect(start, options.payload);
  }

  /** Runs until both sides are connected (or `deadline`); true if they are. */
  connect(deadline = this.sim.now + 30_000): boolean {
    return this.sim.runWhile(() => this.server.state !== 'connected' || this.client.state !== 'connected', deadline);
  }
}
