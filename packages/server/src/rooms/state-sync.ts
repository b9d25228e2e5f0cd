/**
 * A room's state on the wire, with @colyseus/schema 5's Encoder: what changed since the last patch, encoded
 * once for every client without a view and once per distinct StateView (clients that share a view object
 * share its bytes), the full state for a client that joins or asks for a resync, and the `@unreliable`
 * fields' own patches.
 *
 * The encoder writes into a buffer it reuses: every frame here is built with one copy out of it, so what is
 * queued for sending (and resending) never changes afterwards, and the same frame is queued to every client
 * that gets it.
 *
 * Patches are numbered (1, 2, …): a full state says which patch it follows, an unreliable patch which
 * reliable patch it was encoded after (its `basis`), so a client holds an unreliable patch that refers to
 * things it has not seen yet rather than decoding it against an older state.
 */

import { Decoder, Encoder, Reflection, StateView, type Iterator, type Schema } from '@colyseus/schema';
import { encodeRoomFrame, metadataKey, stateDigest } from '@volley/protocol';

/** Who gets state: the room's joined clients. */
export interface StateReceiver {
  view: StateView | undefined;
}

const NO_VIEW = Symbol('no view');

export class StateSync {
  readonly encoder: Encoder<Schema>;
  /** The number of the last reliable patch encoded (0: none yet). */
  patch = 0;
  /** The number of the last unreliable patch encoded. */
  unreliableSeq = 0;
  /** Whether any type of the state has a filtered (`.view()`) field. */
  readonly hasFilters: boolean;
  /** Whether any type of the state has an `@unreliable` field. */
  readonly hasUnreliableFields: boolean;
  private reflectionBytes: Uint8Array | undefined;
  /** The full state without views, for clients without a view; valid until something is encoded or discarded. */
  private fullCache: { frame: Uint8Array; body: Uint8Array; sharedEnd: number; patch: number } | undefined;
  private fullBuffer: Uint8Array = new Uint8Array(Encoder.BUFFER_SIZE);

  constructor(
    readonly state: Schema,
    /** The room's number on the wire. */
    private readonly room: number,
  ) {
    this.encoder = new Encoder(state);
    this.hasFilters = this.encoder.context.hasFilters;
    this.hasUnreliableFields = [...this.encoder.context.schemas.keys()].some((klass) => {
      const md = (klass as unknown as Record<symbol, Record<number, { unreliable?: boolean } | undefined> | undefined>)[metadataKey()];
      return md !== undefined && Object.values(md).some((f) => f?.unreliable === true);
    });
  }

  /** Reflection.encode of the state's types: what a client without the state's classes builds them from. */
  reflection(): Uint8Array {
    return (this.reflectionBytes ??= Reflection.encode(this.encoder));
  }

  /** Whether a patch now would carry anything for someone (changes, a stream backlog, or a view's own changes). */
  pending(receivers: readonly StateReceiver[]): boolean {
    if (this.encoder.hasChanges) return true;
    if (!this.hasFilters) return false;
    for (const r of receivers) if (r.view && r.view.changes.size > 0) return true;
    return false;
  }

  /**
   * Encodes the changes since the last patch and hands each receiver its frame (a PATCH room frame); the
   * changes are discarded afterwards. Without receivers the changes are only discarded. Returns whether
   * anything was sent.
   */
  encodePatch(receivers: readonly StateReceiver[], deliver: (receiver: StateReceiver, frame: Uint8Array) => void): boolean {
    const encoder = this.encoder;
    if (receivers.length === 0 || !this.pending(receivers)) {
      if (encoder.hasChanges) this.invalidate();
      encoder.discardChanges();
      return false;
    }
    this.invalidate();
    const patch = ++this.patch;
    const it: Iterator = { offset: 0 };
    const shared = encoder.hasChanges ? encoder.encode(it) : encoder.sharedBuffer.subarray(0, 0);
    const sharedEnd = it.offset;
    this.perView(
      receivers,
      (view) => {
        const body = view ? encoder.encodeView(view, sharedEnd, it) : shared;
        it.offset = sharedEnd; // the view's bytes are copied out below: the next view may reuse the space
        return body.length > 0 ? encodeRoomFrame({ op: 'patch', room: this.room, patch, body }) : null;
      },
      deliver,
    );
    encoder.discardChanges();
    return true;
  }

  /** The full state for one receiver (a STATE room frame): everything, or everything its view lets it see. */
  fullState(receiver: StateReceiver): Uint8Array {
    const shared = this.sharedFull();
    if (!this.hasFilters || !receiver.view) return shared.frame;
    return encodeRoomFrame({ op: 'state', room: this.room, patch: this.patch, body: this.viewFull(receiver.view) });
  }

  /** The full state without any view (its frame, and where the shared part ends in the buffer), cached. */
  private sharedFull(): { frame: Uint8Array; body: Uint8Array; sharedEnd: number; patch: number } {
    if (!this.fullCache || this.fullCache.patch !== this.patch || this.encoder.hasUnreliableChanges) {
      const it: Iterator = { offset: 0 };
      const out = this.encoder.encodeAll(it, this.fullBuffer);
      if (out.buffer !== this.fullBuffer.buffer) this.fullBuffer = new Uint8Array(out.buffer); // it grew
      const body = out.slice();
      this.fullCache = {
        frame: encodeRoomFrame({ op: 'state', room: this.room, patch: this.patch, body }),
        body,
        sharedEnd: it.offset,
        patch: this.patch,
      };
    }
    return this.fullCache;
  }

  private viewFull(view: StateView): Uint8Array {
    const shared = this.sharedFull();
    if (this.fullBuffer.length < shared.body.length + Encoder.BUFFER_SIZE)
      this.fullBuffer = new Uint8Array(shared.body.length + Encoder.BUFFER_SIZE);
    this.fullBuffer.set(shared.body);
    return this.encoder.encodeAllView(view, shared.sharedEnd, { offset: shared.sharedEnd }, this.fullBuffer);
  }

  /**
   * DIGEST frames (docs/protocol.md §9): a digest of the state each receiver should have now, one per
   * distinct view, for clients to check their copy against. Call it right after a patch (the state must be
   * what the patches so far describe). What is hashed is what a fresh client decodes from the full state
   * of that view.
   */
  encodeDigests(receivers: readonly StateReceiver[], deliver: (receiver: StateReceiver, frame: Uint8Array) => void): void {
    this.perView(
      receivers,
      (view) => {
        // Always of what a client decodes, never of the server's own objects: the wire is lossy for some types
        // (t.number() sends 0.1 as a float32, NaN as 0), and the client can only have what the wire carries.
        const digest = this.decodedDigest(view ? this.viewFull(view) : this.sharedFull().body);
        return encodeRoomFrame({ op: 'digest', room: this.room, patch: this.patch, digest });
      },
      deliver,
    );
  }

  private decodedDigest(full: Uint8Array): number {
    const Root = this.state.constructor as new () => Schema;
    const scratch = new Decoder(new Root());
    scratch.decode(full);
    return stateDigest(scratch.state);
  }

  /**
   * Encodes the `@unreliable` fields changed since the last unreliable patch (UNRELIABLE_PATCH frames, each
   * numbered, with the reliable patch it follows); discarded afterwards. Returns whether anything was sent.
   */
  encodeUnreliable(receivers: readonly StateReceiver[], deliver: (receiver: StateReceiver, frame: Uint8Array) => void): boolean {
    const encoder = this.encoder;
    if (!encoder.hasUnreliableChanges) return false;
    this.invalidate();
    if (receivers.length === 0) {
      encoder.discardUnreliableChanges();
      return false;
    }
    const seq = (this.unreliableSeq = (this.unreliableSeq + 1) >>> 0 || 1);
    const basis = this.patch;
    const it: Iterator = { offset: 0 };
    const shared = encoder.encodeUnreliable(it);
    const sharedEnd = it.offset;
    this.perView(
      receivers,
      (view) => {
        const body = view ? encoder.encodeUnreliableView(view, sharedEnd, it) : shared;
        it.offset = sharedEnd;
        return body.length > 0 ? encodeRoomFrame({ op: 'unreliable-patch', room: this.room, seq, basis, body }) : null;
      },
      deliver,
    );
    encoder.discardUnreliableChanges();
    return true;
  }

  /**
   * One frame per distinct view (one for every receiver without a view), each built once and handed to every
   * receiver with that view; a view whose frame is null gets nothing.
   */
  private perView(
    receivers: readonly StateReceiver[],
    frameFor: (view: StateView | undefined) => Uint8Array | null,
    deliver: (receiver: StateReceiver, frame: Uint8Array) => void,
  ): void {
    const frames = new Map<StateView | typeof NO_VIEW, Uint8Array | null>();
    for (const r of receivers) {
      const view = this.hasFilters ? r.view : undefined;
      const key = view ?? NO_VIEW;
      let f = frames.get(key);
      if (f === undefined) frames.set(key, (f = frameFor(view)));
      if (f) deliver(r, f);
    }
  }

  /** Changes are discarded without a patch, e.g. by a room with nobody in it. */
  discard(): void {
    if (this.encoder.hasChanges || this.encoder.hasUnreliableChanges) this.invalidate();
    this.encoder.discardChanges();
    this.encoder.discardUnreliableChanges();
  }

  private invalidate(): void {
    this.fullCache = undefined;
  }
}
