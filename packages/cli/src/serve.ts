/**
 * `volley serve`: a development server that echoes every message back to its sender, on the channel it
 * came on, untouched. Prints where it listens; stops cleanly (clients told why) on SIGINT/SIGTERM.
 */

import { Server, type ServerOptions } from '@volley/server';
import { listenError } from './listen-error.js';

export interface ServeOptions {
  host: string;
  port: number;
  udpPort: number;
  transports: NonNullable<ServerOptions['transports']>;
}

/** Starts the echo server; a failure to listen frees whatever was bound and throws a CommandError. */
export async function startEchoServer(o: ServeOptions): Promise<Server> {
  const server = new Server({ host: o.host, port: o.port, udpPort: o.udpPort, transports: o.transports });
  server.onAnyMessage((session, type, data, { channel }) => session.send(type, data, { channel }));
  try {
    await server.listen();
  } catch (e) {
    await server.close().catch(() => {});
    throw listenError(e, o);
  }
  return server;
}

export function describeServer(server: Server): string {
  const a = server.address();
  const url = httpUrl(a.host, a.port);
  const lines = [`volley serve: echo server on ${url}`, `  transports: ${server.info().transports.join(', ')}`];
  if (a.udpPort !== undefined) lines.push(`  udp: ${hostPort(a.host, a.udpPort)}`);
  lines.push(`  try: npx volley ping ${url} --count 10`, '  Ctrl-C to stop');
  return lines.join('\n');
}

/** `http://host:port`, an IPv6 address in brackets (http://[::1]:8080) so that it parses as a URL. */
export function httpUrl(host: string, port: number): string {
  return `http://${hostPort(host, port)}`;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
