/** GET /volley/info: which transports the server offers, how to reach each, and its channel layout. */

import type { ChannelOptions } from '@volley/protocol';
import { ConnectError } from './connect-error.js';
import type { ServerInfo } from './transport.js';

/** Fetches the server's info; ConnectError 'unreachable' (with the cause) when it cannot be had. */
export async function fetchInfo(base: URL, timeoutMs: number): Promise<ServerInfo & { channels?: ChannelOptions[] }> {
  const url = new URL('/volley/info', base);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message;
    throw new ConnectError('unreachable', `cannot reach ${url.href}: ${(e as Error).message}${detail ? ` (${detail})` : ''}`, []);
  }
  if (!res.ok) throw new ConnectError('unreachable', `${url.href} answered ${res.status}`, []);
  let info: unknown;
  try {
    info = await res.json();
  } catch {
    throw new ConnectError('unreachable', `${url.href} is not a Volley server (its answer is not JSON)`, []);
  }
  if (typeof info !== 'object' || info === null || !Array.isArray((info as ServerInfo).transports)) {
    throw new ConnectError('unreachable', `${url.href} is not a Volley server (no transport list)`, []);
  }
  if (typeof (info as ServerInfo).protocol !== 'number') {
    throw new ConnectError('unreachable', `${url.href} is not a Volley server (no protocol version)`, []);
  }
  return info as ServerInfo & { channels?: ChannelOptions[] };
}
