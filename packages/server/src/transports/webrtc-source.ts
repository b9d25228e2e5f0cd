/**
 * Which "source" a signaling request comes from, for the WebRTC transport's per-source limits (pending
 * offers, request rate): the remote IP address of its TCP connection, never the port (one client opens
 * many connections). An IPv4 address is its own source, an IPv4-mapped IPv6 address (::ffff:a.b.c.d, on a
 * dual-stack socket) is that IPv4 address, and any other IPv6 address counts by its /64 prefix, since one
 * host usually holds a whole /64 (as the server's own per-source limits count them).
 */

import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

export function sourceOf(req: IncomingMessage): string {
  const address = (req.socket.remoteAddress ?? '').replace(/%.*$/, '');
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return 'unknown';
  const g = ipv6Groups(address);
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `${g[6]! >>> 8}.${g[6]! & 0xff}.${g[7]! >>> 8}.${g[7]! & 0xff}`;
  }
  return `${g
    .slice(0, 4)
    .map((x) => x.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 literal (`::` expanded, a trailing dotted IPv4 part included). */
function ipv6Groups(address: string): number[] {
  let text = address;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((x) => parseInt(x, 16)));
  const h = parse(head);
  if (tail === undefined) return h;
  const t = parse(tail);
  return [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
}
