/**
 * A room's inputs (docs/rooms.md, "Inputs"): what clients send with `room.input(Input).send()` —
 * @colyseus/schema 5's InputEncoder in unreliable mode, the last few inputs in every packet — decoded per
 * client with an InputDecoder, each input handed to the room once, in order, by its sequence number. A lost
 * packet costs nothing while a later one carries its inputs again; a duplicate or late one is ignored.
 *
 * The packet's framing (`base seq | length | input | length | input …`) is read here, with bounds, rather
 * than by InputDecoder.decodeAll: that one trusts the lengths, and a negative one (bytes ff ff ff) sends it
 * back and forth forever — a hostile client could hang the server (@colyseus/schema 5.0.34).
 */

import { decode, type Schema } from '@colyseus/schema';
import { InputDecoder } from '@colyseus/schema/input';
import type { RoomClient } from './room-client.js';

/** Bytes an INPUT frame's body may have: a few inputs of a few fields each. */
export const MAX_INPUT_BYTES = 1024;
/** Inputs one INPUT frame may carry (a client's `historySize`). */
export const MAX_INPUTS_PER_FRAME = 32;

export type InputHandler<I> = (client: RoomClient, input: I, seq: number) => void;

export class RoomInputs<I extends Schema> {
  private readonly decoders = new WeakMap<RoomClient, InputDecoder<I>>();

  constructor(
    private readonly Input: new () => I,
    private readonly handler: InputHandler<ReturnType<I['toJSON']>>,
  ) {}

  /**
   * An INPUT frame from `client`: each input newer than the last one it had is handed over (as a plain
   * object). Throws on bytes that are no inputs (the caller counts them as malformed).
   */
  receive(client: RoomClient, body: Uint8Array, onError: (e: unknown) => void): void {
    if (body.length > MAX_INPUT_BYTES) throw new RangeError(`an input frame of ${body.length} bytes (at most ${MAX_INPUT_BYTES})`);
    let decoder = this.decoders.get(client);
    if (!decoder) this.decoders.set(client, (decoder = new InputDecoder(new this.Input())));
    const fresh: { input: ReturnType<I['toJSON']>; seq: number }[] = [];
    try {
      this.parse(client, decoder, body, fresh);
    } finally {
      // What was read before an unusable part is delivered (its numbers are taken: it would not come again).
      for (const f of fresh) {
        try {
          this.handler(client, f.input, f.seq);
        } catch (e) {
          onError(e);
        }
      }
    }
  }

  private parse(
    client: RoomClient,
    decoder: InputDecoder<I>,
    body: Uint8Array,
    fresh: { input: ReturnType<I['toJSON']>; seq: number }[],
  ): void {
    const it = { offset: 0 };
    const base = decode.number(body, it);
    if (!Number.isSafeInteger(base) || base < 0) throw new RangeError(`an input frame's base sequence is ${String(base)}`);
    for (let count = 0; it.offset < body.length; count++) {
      if (count >= MAX_INPUTS_PER_FRAME) throw new RangeError(`an input frame of more than ${MAX_INPUTS_PER_FRAME} inputs`);
      const len = decode.number(body, it);
      if (!Number.isInteger(len) || len < 0 || it.offset + len > body.length)
        throw new RangeError(`an input of length ${String(len)} at offset ${it.offset}`);
      decoder.decode(body.subarray(it.offset, it.offset + len));
      it.offset += len;
      const seq = base + count;
      if (seq <= client.lastInputSeq) continue;
      client.lastInputSeq = seq;
      fresh.push({ input: decoder.instance.toJSON() as ReturnType<I['toJSON']>, seq });
    }
  }

  /** A client reconnected: its inputs start again from 1 (a new encoder on its side). */
  restart(client: RoomClient): void {
    this.decoders.delete(client);
    client.lastInputSeq = 0;
  }
}
