/**
 * Reads a datagram without a connection: what kind it is, its header and the records it carries.
 * For tools and tests (e.g. a link rule "drop the first packet that carries message 1 on channel 0").
 * Never throws: a malformed datagram comes back as { kind: 'malformed', error }.
 */

import { ByteReader, DecodeError } from './bytes.js';
import { decodeControl, type ControlPacket } from './control.js';
import { packetKindOf, PacketKind, readHeader, type PacketHeader } from './header.js';
import { readRecords, type MessageRecord } from './record.js';

export type PacketSummary =
  | { kind: 'data'; header: PacketHeader; records: MessageRecord[] }
  | { kind: 'control'; packet: ControlPacket }
  | { kind: 'malformed'; error: string };

/**
 * `channelsWithIds` lists the channels whose messages carry ids (reliable kinds and unreliable-sequenced);
 * without it every channel 0–14 is assumed to carry ids.
 */
export function inspectPacket(datagram: Uint8Array, channelsWithIds?: readonly number[]): PacketSummary {
  try {
    const kind = packetKindOf(datagram);
    if (kind === undefined) throw new DecodeError('unknown packet kind');
    if (kind === PacketKind.Control) return { kind: 'control', packet: decodeControl(datagram) };
    const r = new ByteReader(datagram);
    const header = readHeader(r);
    const records = readRecords(r, (ch) => (ch === 15 ? 'plain' : !channelsWithIds || channelsWithIds.includes(ch) ? 'id' : 'plain'));
    return { kind: 'data', header, records };
  } catch (e) {
    if (e instanceof DecodeError) return { kind: 'malformed', error: e.message };
    throw e;
  }
}
