/**
 * `volley serve`: a server that echoes every message back to its sender, on the channel it came on,
 * untouched, and runs the room types a module defines (`--rooms`). With `--redis` it shares matchmaking with
 * every process on that Redis (docs/scaling.md). Prints where it listens; stops cleanly (clients told why) on
 * SIGINT/SIGHUP, and on SIGTERM after draining its rooms.
 */

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Server, sharedSource, type ServerOptions } from '@volley/server';
import { CommandError, messageOf } from './errors.js';
import { listenError } from './listen-error.js';

export interface ServeOptions {
  host: string;
  port: number;
  udpPort: number;
  transports: NonNullable<ServerOptions['transports']>;
  /** Share matchmaking through this Redis. */
  redis?: string;
  /** Where clients reach this process (what other processes redirect to). */
  publicUrl?: string;
  /** A module whose default export defines room types: `(server: Server) => void | Promise<void>`. */
  rooms?: string;
  processId?: string;
  maxRooms?: number;
  maxClients?: number;
  /** Clients that may share one source address (sharedSource()): for a load test from one machine, or behind a proxy. */
  perSource?: number;
  loadToken?: string;
}

/** Loads a `--rooms` module: its default export is called with the server to define room types. */
async function defineRooms(server: Server, path: string): Promise<void> {
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as { default?: unknown };
  } catch (e) {
    throw new CommandError(`volley serve: --rooms ${path}: cannot load it: ${(e as Error)?.message ?? String(e)}`);
  }
  if (typeof mod.default !== 'function')
    throw new CommandError(`volley serve: --rooms ${path}: its default export must be a function (server) => void that defines room types`);
  await (mod.default as (s: Server) => unknown)(server);
}

/** Starts the server; a failure to listen frees whatever was bound and throws a CommandError. */
export async function startEchoServer(o: ServeOptions): Promise<Server> {
  const server = new Server({
    host: o.host,
    port: o.port,
    udpPort: o.udpPort,
    transports: o.transports,
    redis: o.redis,
    publicUrl: o.publicUrl,
    loadToken: o.loadToken,
    ...(o.perSource === undefined ? {} : sharedSource(o.perSource)),
    rooms: { processId: o.processId, maxRooms: o.maxRooms, maxClients: o.maxClients },
  });
  server.onAnyMessage((session, type, data, { channel }) => session.send(type, data, { channel }));
  // What the server reports (a room hook that threw, Redis gone and back) is one line each, as the command's own
  // errors are; VOLLEY_DEBUG=1 adds the stack.
  server.onError((e) => {
    console.error(`volley serve: ${messageOf(e)}`);
    if (process.env.VOLLEY_DEBUG === '1' && e instanceof Error && e.stack) console.error(e.stack);
  });
  if (o.rooms) await defineRooms(server, o.rooms);
  try {
    await server.listen();
  } catch (e) {
    await server.close().catch(() => {});
    if (o.redis && /Redis/.test((e as Error)?.message ?? ''))
      throw new CommandError(`volley serve: --redis ${o.redis}: ${(e as Error).message}`);
    throw listenError(e, o);
  }
  return server;
}

export function describeServer(server: Server): string {
  const a = server.address();
  const url = httpUrl(a.host, a.port);
  const lines = [`volley serve: echo server on ${url}`, `  transports: ${server.info().transports.join(', ')}`];
  if (a.udpPort !== undefined) lines.push(`  udp: ${hostPort(a.host, a.udpPort)}`);
  const mm = server.matchmaker;
  const types = mm.definedTypes;
  if (types.length > 0) lines.push(`  rooms: ${types.join(', ')}`);
  if (mm.cluster) lines.push(`  cluster: process ${mm.processId} at ${mm.url}, ${mm.cluster.processes().length} process(es) on Redis`);
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
