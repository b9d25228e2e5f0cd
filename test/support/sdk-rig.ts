/**
 * The servers and clients an SDK test makes, closed after each test (clients first): one place instead of a
 * copy per test file. Servers listen on 127.0.0.1 with free ports.
 */

import { afterEach } from 'vitest';
import { Server, type ServerOptions } from '@volley/server';

interface Closable {
  close(): unknown;
}

export class SdkRig {
  private readonly servers: Server[] = [];
  private readonly clients: Closable[] = [];

  /** Registers the cleanup after each test of the file that makes it. */
  constructor(private readonly defaults: ServerOptions = {}) {
    afterEach(() => this.dispose());
  }

  /** A listening server on 127.0.0.1 (ports 0), with the rig's defaults and `options`. */
  async serve(options: ServerOptions = {}): Promise<Server> {
    const s = new Server({ host: '127.0.0.1', port: 0, udpPort: 0, ...this.defaults, ...options });
    this.servers.push(s);
    await s.listen();
    return s;
  }

  /** Closes `c` (a client, or a server made elsewhere) after the test. */
  track<C extends Closable>(c: C): C {
    if (c instanceof Server) this.servers.push(c);
    else this.clients.push(c);
    return c;
  }

  /** Closes the clients now (e.g. before a proxy in front of the server goes). */
  async closeClients(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.close();
  }

  async dispose(): Promise<void> {
    await this.closeClients();
    for (const s of this.servers.splice(0)) await s.close(); // closing a closed server does nothing
  }
}
