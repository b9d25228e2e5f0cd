/** The transports a session can run on (docs/transports.md), one list for server and client. */

export type TransportKind = 'webrtc' | 'websocket' | 'polling' | 'udp';

export const TRANSPORT_KINDS: readonly TransportKind[] = ['webrtc', 'websocket', 'polling', 'udp'];

/** True for the transports that are reliable and ordered themselves (the protocol runs without retransmission on them). */
export function isReliableTransport(kind: TransportKind): boolean {
  return kind === 'websocket' || kind === 'polling';
}
