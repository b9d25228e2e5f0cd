/**
 * A room's inputs from this client (docs/rooms.md, "Inputs"): set the fields of `value`, call `send()` once
 * per tick. Each packet is @colyseus/schema 5's InputEncoder in unreliable mode — this input and the ones
 * before it (`historySize`, default 3) — on the unreliable-sequenced channel: a lost packet costs nothing
 * while a later one carries its inputs again, and no input waits behind a retransmission.
 *
 *   const input = room.input(Move, { historySize: 4 });
 *   input.value.dx = 1; input.value.fire = true;
 *   const seq = input.send();           // the server's client.lastInputSeq reaches seq when it took it
 */

import type { Schema } from '@colyseus/schema';
import { InputEncoder } from '@colyseus/schema/input';

export interface InputOptions {
  /** Inputs each packet carries (this one and the ones before it). Default 3, at most 32. */
  historySize?: number;
}

export class InputSender<I extends Schema> {
  private encoder: InputEncoder<I>;

  /** @internal made by room.input() */
  constructor(
    /** The input to fill before each send (the same instance every time). */
    readonly value: I,
    private readonly options: InputOptions,
    private readonly transmit: (bytes: Uint8Array) => void,
  ) {
    const n = options.historySize ?? 3;
    if (!Number.isInteger(n) || n < 1 || n > 32) throw new RangeError(`historySize must be 1..32, got ${n}`);
    this.encoder = new InputEncoder(value, { mode: 'unreliable', historySize: n });
  }

  /** The sequence number of the last input sent (0 before the first). */
  get seq(): number {
    return this.encoder.seq;
  }

  /** Sends `value` (and the inputs before it); returns its sequence number. Throws SendError like room.send. */
  send(): number {
    this.transmit(this.encoder.encode().slice());
    return this.encoder.seq;
  }

  /** @internal The room came back on a new session: numbering starts again at 1 (the server's does too). */
  restart(): void {
    this.encoder = new InputEncoder(this.value, { mode: 'unreliable', historySize: this.options.historySize ?? 3 });
  }
}
