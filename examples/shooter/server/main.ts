// The shooter's server: the arena room and the built page on one port.
//   npm start   (builds the page, starts this, prints the URL)
import { Server, staticFiles, type ServerOptions } from '@volley/server';
import { ArenaRoom, type ArenaOptions } from './arena-room.js';

/**
 * Starts the server on `port` (0: any free one), serving the page built in `page`. `arena`: options every
 * arena is created with (tests use it for target bots); a page's own join options come on top.
 */
export async function startShooter(port: number, page: URL, options: ServerOptions = {}, arena: ArenaOptions = {}): Promise<Server> {
  const server = new Server({ port, ...options });
  server.define('arena', ArenaRoom, arena);
  // The A/B/C demo: a room of its own per viewer (created, never joined by matchmaking).
  server.define('abc-demo', ArenaRoom, { demo: true });
  server.http.fallback = staticFiles(page);
  return server.listen();
}
