/**
 * One HTTP port for everything: routes by path prefix to the transports (polling routes, WebSocket
 * upgrade) and to the core (GET /volley/info). geckos.io adds its own signaling routes (/.wrtc/v2/…) on
 * top of ours. Anything unrouted gets 404; an exception in a handler gets 500, never a crash.
 */

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, path: string) => void | Promise<void>;
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;

export class HttpHost {
  private readonly routes: [string, RequestHandler][] = [];
  private readonly upgrades: [string, UpgradeHandler][] = [];
  /** Called for requests no route takes (e.g. an application's own pages), before the 404. */
  fallback: RequestHandler | undefined;

  constructor(readonly server: Server) {
    server.on('request', (req, res) => void this.dispatch(req, res));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const path = pathOf(req);
      const u = this.upgrades.find(([p]) => path.startsWith(p));
      if (u) u[1](req, socket, head);
      else socket.destroy();
    });
  }

  route(prefix: string, handler: RequestHandler): void {
    this.routes.push([prefix, handler]);
  }

  upgrade(prefix: string, handler: UpgradeHandler): void {
    this.upgrades.push([prefix, handler]);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req);
    if (path.startsWith('/.wrtc/')) return; // geckos.io answers its own routes
    try {
      const r = this.routes.find(([p]) => path.startsWith(p));
      if (r) return await r[1](req, res, path);
      if (this.fallback) return await this.fallback(req, res, path);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`internal error: ${(e as Error).message}\n`);
    }
  }
}

export function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
