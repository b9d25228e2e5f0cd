/**
 * The client's copy of a room's state: @colyseus/schema 5's Decoder fed with STATE, PATCH and
 * UNRELIABLE_PATCH frames, and the checks that keep it right:
 *
 * - a patch that refers to something this copy does not have ("refId not found"), a definition mismatch,
 *   or a decode that throws is a **desync**: the copy stops applying patches and asks for a resync; the
 *   full state that answers is applied with `decodeResync` (entries the copy holds and the server does not
 *   are removed, with their onRemove), so the copy is never silently wrong;
 * - a DIGEST the server sends now and then (a hash of the state this client should have) is checked against
 *   this copy: one that differs without any decoder error is a desync too;
 * - an unreliable patch is applied only if it is newer than the last one applied (its own sequence), and
 *   only once the reliable patch it was encoded after has been applied (one that arrives early waits; one
 *   that refers to something removed since is dropped without a desync: it is stale, not wrong);
 * - state callbacks run after a decode, outside the checks (what they log is theirs), for whatever it applied.
 */

import { Decoder, Reflection, type Schema } from '@colyseus/schema';
import { stateDigest } from '@volley/protocol';
import { serialNewer } from './serial.js';

/** A Decoder that notices when it had to skip what it could not decode. */
class CheckedDecoder<T extends Schema> extends Decoder<T> {
  skipped = 0;
  override skipCurrentStructure(bytes: Uint8Array, it: { offset: number }, totalBytes: number): void {
    this.skipped++;
    super.skipCurrentStructure(bytes, it, totalBytes);
  }
}

export type StateEvent = 'desync';

export class StateDecoder<T extends Schema = Schema> {
  readonly decoder: Decoder<T>;
  /** The last reliable patch applied (a full state counts as the patch it follows). */
  patch = -1;
  /** The last unreliable patch applied. */
  private unreliableSeq = 0;
  /** An unreliable patch that arrived before its basis. */
  private early: { seq: number; basis: number; body: Uint8Array } | undefined;
  /** Waiting for a full state: patches are ignored until it comes. */
  awaitingState = true;
  private hasState = false;
  /** Desyncs detected (each answered by a resync). */
  desyncs = 0;

  constructor(decoder: Decoder<T>) {
    this.decoder = decoder;
  }

  /** A decoder for an instance of the state's class (`new State()`), or built from the room's Reflection bytes. */
  static create<T extends Schema>(state: T | undefined, reflection: Uint8Array | undefined): StateDecoder<T> {
    if (state) return new StateDecoder(checked(state));
    if (!reflection) throw new Error('the room sent no state types (Reflection) and no state class was given');
    const reflected = Reflection.decode<T>(reflection);
    return new StateDecoder(checked(reflected.state, reflected.context));
  }

  get state(): T {
    return this.decoder.state;
  }

  /**
   * A STATE frame. Returns false when it could not be applied in full (a desync of its own: ask again).
   */
  applyState(patch: number, body: Uint8Array): boolean {
    const ok = this.run(body, this.hasState);
    if (!ok) return false;
    this.hasState = true;
    this.awaitingState = false;
    this.patch = patch;
    this.applyEarly();
    return true;
  }

  /** A PATCH frame. Returns false on a desync (the caller asks for a resync); patches before the full state are ignored. */
  applyPatch(patch: number, body: Uint8Array): boolean {
    if (this.awaitingState || !serialNewer(patch, this.patch)) return true;
    if (!this.run(body, false)) {
      this.desyncs++;
      this.awaitingState = true;
      return false;
    }
    this.patch = patch;
    this.applyEarly();
    return true;
  }

  /** A full state is coming (a reconnection): patches are ignored until it is applied (with decodeResync). */
  expectState(): void {
    this.awaitingState = true;
    this.early = undefined;
  }

  /**
   * A DIGEST frame: whether this copy is what the server says it should be now. False is a desync the decoder
   * could not see by itself (the caller resyncs).
   */
  checkDigest(digest: number): boolean {
    if (this.awaitingState) return true;
    if (stateDigest(this.state) === digest) return true;
    this.desyncs++;
    this.awaitingState = true;
    return false;
  }

  /** An UNRELIABLE_PATCH frame: applied if newest and its basis is here; held if early; dropped if stale. */
  applyUnreliable(seq: number, basis: number, body: Uint8Array): void {
    if (!serialNewer(seq, this.unreliableSeq)) return;
    if (this.awaitingState || serialNewer(basis, this.patch)) {
      if (!this.early || serialNewer(seq, this.early.seq)) this.early = { seq, basis, body: body.slice() };
      return;
    }
    this.unreliableSeq = seq;
    this.run(body, false, true);
  }

  private applyEarly(): void {
    const e = this.early;
    if (!e || serialNewer(e.basis, this.patch)) return;
    this.early = undefined;
    if (serialNewer(e.seq, this.unreliableSeq)) {
      this.unreliableSeq = e.seq;
      this.run(e.body, false, true);
    }
  }

  /** Decodes quietly (the decoder's own console output on a skip is ours to judge), then runs callbacks. */
  private run(body: Uint8Array, resync: boolean, tolerant = false): boolean {
    const decoder = this.decoder as CheckedDecoder<T>;
    const trigger = decoder.triggerChanges;
    let changes: Parameters<NonNullable<Decoder['triggerChanges']>>[0] | undefined;
    if (trigger) decoder.triggerChanges = (c) => void (changes = c);
    const before = decoder.skipped;
    const { error, warn } = console;
    console.error = console.warn = () => undefined;
    let threw = false;
    try {
      if (resync) decoder.decodeResync(body);
      else decoder.decode(body);
    } catch {
      threw = true;
    } finally {
      console.error = error;
      console.warn = warn;
      decoder.triggerChanges = trigger;
    }
    const ok = !threw && decoder.skipped === before;
    // What was applied is applied, even by a decode that then failed: its callbacks run (the resync after fixes the rest).
    if (changes && trigger) trigger(changes);
    return ok || tolerant;
  }
}

function checked<T extends Schema>(state: T, context?: Decoder<T>['context']): CheckedDecoder<T> {
  return new CheckedDecoder<T>(state, context);
}
