/** Why `volley serve` could not listen, in words the user can act on (busy port, unknown host, …). */

import { CommandError, messageOf, systemErrorCode } from './errors.js';

export interface ListenTarget {
  host: string;
  port: number;
  udpPort: number;
}

/** A CommandError for a Server.listen() failure. */
export function listenError(e: unknown, at: ListenTarget): CommandError {
  return new CommandError(`volley serve: ${explain(e, at)}`);
}

function explain(e: unknown, at: ListenTarget): string {
  // The UDP transport's errors start with 'udp:'; the HTTP server's are Node's own.
  const udp = messageOf(e).startsWith('udp:');
  const port = udp ? at.udpPort : at.port;
  const portName = udp ? `UDP port ${port}` : `port ${port}`;
  const option = udp ? '--udp-port' : '--port';
  switch (systemErrorCode(e)) {
    case 'EADDRINUSE':
      return `${portName} is already in use (try ${option} 0 or another port)`;
    case 'EACCES':
      return `no permission to listen on ${portName} (ports below 1024 need privileges: try ${option} 0 or a port from 1024)`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${at.host}: not an address of this machine (try --host 127.0.0.1)`;
    case 'EAFNOSUPPORT':
      return `cannot listen on ${at.host}: this machine does not support that address family`;
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `cannot resolve host '${at.host}' (${systemErrorCode(e)}): give an address or a name this machine resolves`;
    default:
      return `cannot listen on ${at.host}:${port}: ${messageOf(e)}`;
  }
}
