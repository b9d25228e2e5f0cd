/**
 * A message on its way out: its payload, how it splits into fragments, and for reliable channels the
 * acknowledgement state of each fragment ("unit": a whole message is a single unit).
 */

export class OutgoingMessage {
  /** Number of units: 1 for a whole message, else the fragment count. */
  readonly units: number;
  /** Next unit not yet sent for the first time. */
  nextUnit = 0;
  ackedUnits = 0;
  // Per-unit reliability state. A whole message (the common case) keeps it in plain fields; only
  // fragmented reliable messages allocate arrays (one entry per fragment).
  private ackedOne = 0;
  private requeuedOne = 0;
  private lastPacketOne = -1;
  private readonly ackedMany: Uint8Array | undefined;
  private readonly requeuedMany: Uint8Array | undefined;
  private readonly lastPacketMany: Float64Array | undefined;

  constructor(
    readonly channel: number,
    /** Unwrapped message id (its low 16 bits travel on the wire). */
    readonly id: number,
    readonly data: Uint8Array,
    /** Payload bytes per fragment; messages up to `wholeLimit` travel whole. */
    readonly fragmentSize: number,
    wholeLimit: number,
    reliable: boolean,
  ) {
    this.units = data.length <= wholeLimit ? 1 : Math.ceil(data.length / fragmentSize);
    if (reliable && this.units > 1) {
      this.ackedMany = new Uint8Array(this.units);
      this.lastPacketMany = new Float64Array(this.units).fill(-1);
      this.requeuedMany = new Uint8Array(this.units);
    }
  }

  /** Reliable: whether `unit` has been acknowledged. */
  isAcked(unit: number): boolean {
    return (this.ackedMany ? this.ackedMany[unit] : this.ackedOne) === 1;
  }

  /** Reliable: marks `unit` acknowledged; false if it already was. */
  markAcked(unit: number): boolean {
    if (this.isAcked(unit)) return false;
    if (this.ackedMany) this.ackedMany[unit] = 1;
    else this.ackedOne = 1;
    this.ackedUnits++;
    return true;
  }

  /** Reliable: the packet (unwrapped) that carried `unit` last, -1 before its first send. */
  lastPacket(unit: number): number {
    return this.lastPacketMany ? this.lastPacketMany[unit]! : this.lastPacketOne;
  }

  setLastPacket(unit: number, packet: number): void {
    if (this.lastPacketMany) this.lastPacketMany[unit] = packet;
    else this.lastPacketOne = packet;
  }

  /** Reliable: whether `unit` waits in the resend queue. */
  isRequeued(unit: number): boolean {
    return (this.requeuedMany ? this.requeuedMany[unit] : this.requeuedOne) === 1;
  }

  setRequeued(unit: number, value: boolean): void {
    if (this.requeuedMany) this.requeuedMany[unit] = value ? 1 : 0;
    else this.requeuedOne = value ? 1 : 0;
  }

  get fragmented(): boolean {
    return this.units > 1;
  }

  get complete(): boolean {
    return this.ackedUnits === this.units;
  }

  /** Payload of one unit (a view). */
  unitData(unit: number): Uint8Array {
    if (this.units === 1) return this.data;
    const start = unit * this.fragmentSize;
    return this.data.subarray(start, Math.min(this.data.length, start + this.fragmentSize));
  }

  /** Bytes of the units not yet sent for the first time. */
  unsentBytes(): number {
    if (this.nextUnit >= this.units) return 0;
    return this.units === 1 ? this.data.length : this.data.length - this.nextUnit * this.fragmentSize;
  }
}

/** One unit of a reliable message waiting to be resent. */
export interface ResendUnit {
  message: OutgoingMessage;
  unit: number;
}
