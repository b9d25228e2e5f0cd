/**
 * The source of a link for the per-source limits (limits.maxSessionsPerSource and the others): the client's
 * IP address from the link's `remote`, without the port. An IPv4 address is its own source; an IPv4-mapped
 * IPv6 address (::ffff:a.b.c.d) is that IPv4 address; any other IPv6 address counts by its /64 prefix, since
 * one host usually holds a whole /64. A remote that names no IP address (a WebRTC link whose candidate pair
 * is not known, "webrtc:<id>") has no source: no per-source limit applies to it.
 */

import type { IncomingMessage } from 'node:http';
import { isIPv4, isIPv6 } from 'node:net';

/** "127.0.0.1:53422" → "127.0.0.1", "[2001:db8::1]:5000" → "2001:db8:0:0::/64", "webrtc:7" → undefined. */
export function sourceOf(remote: string): string | undefined {
  let host: string;
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(remote);
  if (bracket) host = bracket[1]!;
  else {
    const colon = remote.lastIndexOf(':');
    host = colon >= 0 && remote.indexOf(':') === colon ? remote.slice(0, colon) : remote;
  }
  host = host.replace(/%.*$/, ''); // an IPv6 zone ("fe80::1%eth0") is not part of the address
  if (isIPv4(host)) return host;
  if (!isIPv6(host)) return undefined;
  const groups = ipv6Groups(host);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return `${groups[6]! >>> 8}.${groups[6]! & 0xff}.${groups[7]! >>> 8}.${groups[7]! & 0xff}`;
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (with "::" and a dotted IPv4 tail expanded). */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (part: string | undefined): number[] => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}

/** The source of an HTTP request (its TCP peer), for the signaling limits: "unknown" when it has none. */
export function requestSource(req: IncomingMessage): string {
  return sourceOf(req.socket.remoteAddress ?? '') ?? 'unknown';
}

/** "host:port" as a link's `remote` shows it, with an IPv6 address bracketed: "127.0.0.1:5000", "[::1]:5000". */
export function formatAddress(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
