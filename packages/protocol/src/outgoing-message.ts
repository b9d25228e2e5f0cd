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
  /** Reliable only: per unit, 1 once acknowledged. */
  readonly acked: Uint8Array | undefined;
  /** Reliable only: per unit, the packet number (unwrapped) that carried it last, -1 before the first send. */
  readonly lastPacket: Float64Array | undefined;
  /** Reliable only: per unit, 1 while it waits in the resend queue. */
  readonly requeued: Uint8Array | undefined;

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
    if (reliable) {
      this.acked = new Uint8Array(this.units);
      this.lastPacket = new Float64Array(this.units).fill(-1);
      this.requeued = new Uint8Array(this.units);
    }
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
