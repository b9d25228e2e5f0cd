// The shooter's server: the arena room and the built page on one port.
//   npm start   (builds the page, starts this, prints the URL)
import { Server, staticFiles, type ServerOptions } from '@volley/server';
import { ArenaRoom } from './arena-room.js';

/** Starts the server on `port` (0: any free one), serving the page built in `page`. */
export async function startShooter(port: number, page: URL, options: ServerOptions = {}): Promise<Server> {
  const server = new Server({ port, ...options });
  server.define('arena', ArenaRoom);
  // The A/B/C demo: a room of its own per viewer (created, never joined by matchmaking).
  server.define('abc-demo', ArenaRoom, { demo: true });
  server.http.fallback = staticFiles(page);
  return server.listen();
}
