/**
 * Packets we sent that may still be acknowledged: what each carried (reliable units), when it left,
 * and whether it asks for an ack. Kept in send order, so the oldest are always first.
 */

import type { OutgoingMessage } from './outgoing-message.js';
import { SequenceRing } from './sequence-ring.js';

export interface SentUnit {
  message: OutgoingMessage;
  unit: number;
}

export interface SentPacket {
  /** Unwrapped packet number. */
  seq: number;
  sentAt: number;
  size: number;
  /** Reliable units carried (resent if the packet is lost). */
  units: SentUnit[];
  /** The delivery-rate sampler's state when it left (delivery-rate.ts). */
  delivered: number;
  deliveredAt: number;
  firstSentAt: number;
  appLimited: boolean;
}

/** Most ack-eliciting packets in flight; past it only acks go out until some are acked or lost. */
export const MAX_IN_FLIGHT_PACKETS = 8192;

export class SentPackets {
  private readonly packets = new SequenceRing<SentPacket>();
  /** Newest packet number the peer acknowledged (unwrapped); -1 before any. */
  largestAcked = -1;
  lastAckElicitingSentAt = -Infinity;
  /** In-flight packets carrying reliable units (acknowledged promptly; the others may be acknowledged lazily). */
  private withUnits = 0;

  get size(): number {
    return this.packets.size;
  }

  get full(): boolean {
    return this.packets.size >= MAX_IN_FLIGHT_PACKETS;
  }

  add(packet: SentPacket): void {
    this.packets.set(packet.seq, packet);
    this.lastAckElicitingSentAt = packet.sentAt;
    if (packet.units.length > 0) this.withUnits++;
  }

  /** Whether any packet in flight carries reliable units. */
  get reliableInFlight(): boolean {
    return this.withUnits > 0;
  }

  get(seq: number): SentPacket | undefined {
    return this.packets.get(seq);
  }

  /** Removes and returns a packet (acked or lost). */
  take(seq: number): SentPacket | undefined {
    const p = this.packets.take(seq);
    if (p && p.units.length > 0) this.withUnits--;
    return p;
  }

  /** In-flight packets, oldest first. */
  values(): IterableIterator<SentPacket> {
    return this.packets.values();
  }

  clear(): void {
    this.packets.clear();
    this.withUnits = 0;
  }
}
