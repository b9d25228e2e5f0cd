/**
 * The client's ICE candidates, filtered before libdatachannel sees them (webrtc.ts, `maxRemoteCandidates`).
 *
 * Every remote candidate makes the server send STUN connectivity checks (and their retransmissions) to
 * that address, so an answer listing other hosts' addresses turns one small HTTP request into a stream of
 * datagrams at third parties (measured with geckos as it was: 50 candidates, ~4.7× the answer's bytes).
 * geckos 3.1.0 takes remote candidates only in the SDP answer (POST …/remote-description: it has no route
 * for trickled ones), so that is where they are filtered (geckos-adapter.ts):
 *
 *  - kept: `udp` candidates whose address is a unicast IP literal (IPv4 or IPv6, without a zone id) and
 *    whose port is 1–65535, each address:port once, at most `max` per peer connection;
 *  - dropped: multicast (224.0.0.0/4, ff00::/8), broadcast and reserved (240.0.0.0/4, so 255.255.255.255),
 *    unspecified (0.0.0.0/8, ::), IPv4-mapped forms of those, anything that is not an IP literal —
 *    hostnames, mDNS `.local` names included (resolving them would make the server run DNS or mDNS
 *    lookups for whatever names a client sends), TCP candidates (libjuice only does UDP), malformed lines,
 *    duplicates, and everything past `max`.
 *
 * Dropping a client's candidates costs nothing on a server with a reachable address: the server learns
 * the client's address from the client's own connectivity checks (peer-reflexive), which is how every
 * browser reaches it anyway (ours never send candidates separately).
 */

import { BlockList, isIP } from 'node:net';

/** Addresses that are not unicast: no connectivity check ever goes there. */
const NOT_UNICAST = new BlockList();
NOT_UNICAST.addSubnet('0.0.0.0', 8, 'ipv4'); // "this network", 0.0.0.0 unspecified
NOT_UNICAST.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
NOT_UNICAST.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, 255.255.255.255 limited broadcast
NOT_UNICAST.addAddress('::', 'ipv6'); // unspecified
NOT_UNICAST.addSubnet('ff00::', 8, 'ipv6'); // multicast
// (BlockList checks an IPv4-mapped IPv6 address, ::ffff:a.b.c.d, against the IPv4 rules too.)

const CANDIDATE_TYPES = new Set(['host', 'srflx', 'prflx', 'relay']);

/** True if `address` is an IP literal (no hostname, no zone id) of a unicast address. */
export function isUnicastLiteral(address: string): boolean {
  if (address.includes('%')) return false;
  const family = isIP(address);
  if (family === 0) return false;
  return !NOT_UNICAST.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The address:port a candidate value (what follows `a=candidate:` / `candidate:`) would make the server
 * check, or undefined if it is not a usable UDP candidate with a unicast IP literal (see the file comment).
 * Form: `foundation component transport priority address port typ type [extensions…]`.
 */
export function candidateTarget(value: string): string | undefined {
  const f = value.trim().split(/\s+/);
  if (f.length < 8 || f[6] !== 'typ') return undefined;
  const [foundation, component, transport, priority, address, port, , type] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (!/^[A-Za-z0-9+/]{1,32}$/.test(foundation) || !/^\d{1,3}$/.test(component) || !/^\d{1,10}$/.test(priority)) return undefined;
  if (transport.toLowerCase() !== 'udp' || !CANDIDATE_TYPES.has(type)) return undefined;
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) return undefined;
  if (!isUnicastLiteral(address)) return undefined;
  return isIP(address) === 6 ? `[${address.toLowerCase()}]:${Number(port)}` : `${address}:${Number(port)}`;
}

export interface FilteredDescription {
  /** The description with only the kept candidates. */
  sdp: string;
  accepted: number;
  dropped: number;
}

/**
 * `sdp` with its candidate lines filtered: at most `max` usable ones kept (the first ones, in order),
 * every other line untouched. Lines are rewritten with CRLF, as SDP requires.
 */
export function filterRemoteCandidates(sdp: string, max: number): FilteredDescription {
  const out: string[] = [];
  const seen = new Set<string>();
  let accepted = 0;
  let dropped = 0;
  for (const line of sdp.split(/\r?\n/)) {
    const m = /^\s*a=candidate(?::|\s|$)(.*)$/i.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    const target = candidateTarget(m[1] ?? '');
    if (target === undefined || seen.has(target) || accepted >= max) {
      dropped++;
      continue;
    }
    seen.add(target);
    accepted++;
    out.push(`a=candidate:${(m[1] ?? '').trim()}`);
  }
  return { sdp: out.join('\r\n'), accepted, dropped };
}
