/**
 * `volley serve`: a development server that echoes every message back to its sender, on the channel it
 * came on, untouched. Prints where it listens; stops cleanly (clients told why) on SIGINT/SIGTERM.
 */

import { Server, type ServerOptions } from '@volley/server';

export interface ServeOptions {
  host: string;
  port: number;
  udpPort: number;
  transports: NonNullable<ServerOptions['transports']>;
}

export async function startEchoServer(o: ServeOptions): Promise<Server> {
  const server = new Server({ host: o.host, port: o.port, udpPort: o.udpPort, transports: o.transports });
  server.onAnyMessage((session, type, data, { channel }) => session.send(type, data, { channel }));
  await server.listen();
  return server;
}

export function describeServer(server: Server): string {
  const a = server.address();
  const lines = [`volley serve: echo server on ${a.url}`, `  transports: ${server.info().transports.join(', ')}`];
  if (a.udpPort !== undefined) lines.push(`  udp: ${a.host}:${a.udpPort}`);
  lines.push('  try: npx volley ping ' + a.url + ' --count 10', '  Ctrl-C to stop');
  return lines.join('\n');
}
