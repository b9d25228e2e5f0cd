/**
 * A room the client is in (docs/rooms.md): its live state (a @colyseus/schema 5 Schema kept in sync by the
 * server's patches), its messages, and how to leave it. Made by `client.joinOrCreate` and its siblings.
 *
 *   const room = await client.joinOrCreate('battle', { mode: 'duel' }, BattleState);
 *   room.callbacks.onAdd('players', (player, id) => draw(id, player));
 *   room.onMessage('hit', (hit) => flash(hit));
 *   room.send('move', { x: 3, y: 4 });
 *   room.onLeave((code) => showLobby(code));
 *
 * `Callbacks.get(room)` from @colyseus/schema works too (the room has the `serializer.decoder` it expects).
 */

import { Callbacks, type Schema, type StateCallbackStrategy } from '@colyseus/schema';
import { encode } from '@msgpack/msgpack';
import {
  decodeValue,
  Emitter,
  encodeRoomFrame,
  LeaveCode,
  SendError,
  type ChannelChoice,
  type RoomFrame,
  type Unsubscribe,
} from '@volley/protocol';
import { InputSender, type InputOptions } from './input-sender.js';
import { Outbox } from './outbox.js';
import { RoomError } from './room-error.js';
import type { RoomLink } from './room-link.js';
import type { StateDecoder } from './state-decoder.js';

export type RoomEvents<State> = {
  /** The state changed (after a full state or a patch was applied). */
  'state-change': [state: State];
  /** The client is out of the room: it left, was removed, the room was disposed, or the session ended. Final. */
  leave: [code: number, text: string];
  /** Something went wrong that the room recovered from or could not act on (a resync, an unusable message, a throwing handler). */
  error: [error: RoomError | Error];
};

export interface RoomSendOptions {
  /** Channel by index or kind. Default 'reliable-ordered'. */
  channel?: ChannelChoice;
}

export interface RoomStats {
  /** Full states received (the first, and any resync). */
  fullStates: number;
  /** Reliable patches applied. */
  patches: number;
  /** Unreliable patches received. */
  unreliablePatches: number;
  /** Desyncs detected (each answered by a resync). */
  desyncs: number;
  /** Bytes of state received (full states and patches). */
  stateBytes: number;
}

export class Room<State extends Schema = Schema> {
  private readonly emitter = new Emitter<RoomEvents<State>>((e) => this.link.report(e));
  private readonly handlers = new Map<string, Set<(message: unknown) => void>>();
  private readonly anyHandlers = new Set<(type: string, message: unknown) => void>();
  private callbackStrategy: StateCallbackStrategy<State> | undefined;
  /** Messages held until the code awaiting the join has run (so its handlers see them). */
  private held: { type: string; message: unknown }[] | undefined = [];
  private leaving: Promise<number> | undefined;
  private left: { code: number; text: string } | undefined;
  private readonly outbox = new Outbox();
  private readonly warned = new Set<string>();
  private readonly inputSenders: InputSender<Schema>[] = [];
  private unreliableSequenced: number;
  private reliableOrdered: number;
  readonly stats: RoomStats = { fullStates: 0, patches: 0, unreliablePatches: 0, desyncs: 0, stateBytes: 0 };

  /** @internal made by the client's rooms */
  constructor(
    private link: RoomLink,
    /** The room's number on this session's wire. */
    readonly roomNumber: number,
    readonly roomId: string,
    readonly name: string,
    /** This client's seat id in the room (what the server's RoomClient.sessionId is). */
    readonly sessionId: string,
    /** What `client.reconnect(token)` takes to come back to this seat after losing the session. */
    readonly reconnectionToken: string,
    private readonly decoderOf: StateDecoder<State> | undefined,
  ) {
    this.reliableOrdered = link.channel('reliable-ordered');
    this.unreliableSequenced = link.channel('unreliable-sequenced');
  }

  /** The live state (undefined for a room without one). */
  get state(): State {
    return this.decoderOf?.state as State;
  }

  /** For `Callbacks.get(room)` (@colyseus/schema). */
  get serializer(): { decoder: StateDecoder<State>['decoder'] } | Record<string, never> {
    return this.decoderOf ? { decoder: this.decoderOf.decoder } : {};
  }

  /** The state's callbacks (@colyseus/schema 5's `Callbacks.get`): listen, onAdd, onRemove, onChange, bindTo. */
  get callbacks(): StateCallbackStrategy<State> {
    if (!this.decoderOf) throw new Error(`room '${this.name}' has no state`);
    return (this.callbackStrategy ??= Callbacks.get<State>(this.decoderOf.decoder));
  }

  /** @internal Its seat received up to `lastSeq` from an earlier Room (a reconnection by token): numbering goes on from there. */
  continueAfter(lastSeq: number): void {
    this.outbox.continueAfter(lastSeq);
  }

  /** @internal Whether it has a state decoder (a revived room keeps its own). */
  get hasDecoder(): boolean {
    return this.decoderOf !== undefined;
  }

  /** @internal Whether the first full state is still to come. */
  get awaitingState(): boolean {
    return this.decoderOf?.awaitingState ?? false;
  }

  /**
   * The server process the room runs in (its origin, `http://host:port`): the one the client connected to, or
   * the one a join was redirected to (docs/scaling.md). Undefined on links that have no URL.
   */
  get serverUrl(): string | undefined {
    return this.link.origin;
  }

  /** Whether the client is still in the room. */
  get joined(): boolean {
    return this.left === undefined;
  }

  /** Round-trip time to the server, ms. */
  get rtt(): number {
    return this.link.rtt();
  }

  /** The server's clock now, ms (for interpolation: `serverTime() - 100` is a good render time). */
  serverTime(): number {
    return this.link.serverTime();
  }

  // ---- events ---------------------------------------------------------------------------------

  on<K extends keyof RoomEvents<State>>(event: K, listener: (...args: RoomEvents<State>[K]) => void): Unsubscribe {
    return this.emitter.on(event, listener);
  }

  onStateChange(listener: (state: State) => void): Unsubscribe {
    return this.on('state-change', listener);
  }

  onLeave(listener: (code: number, text: string) => void): Unsubscribe {
    return this.on('leave', listener);
  }

  onError(listener: (error: RoomError | Error) => void): Unsubscribe {
    return this.on('error', listener);
  }

  /** Handles the room's messages of `type` ('*': every type without a handler of its own, with its type). */
  onMessage(type: string, handler: (message: unknown) => void): Unsubscribe;
  onMessage(type: '*', handler: (type: string, message: unknown) => void): Unsubscribe;
  onMessage(type: string, handler: ((message: unknown) => void) | ((type: string, message: unknown) => void)): Unsubscribe {
    if (type === '*') {
      const h = handler;
      this.anyHandlers.add(h);
      return () => void this.anyHandlers.delete(h);
    }
    let set = this.handlers.get(type);
    if (!set) this.handlers.set(type, (set = new Set()));
    const h = handler as (message: unknown) => void;
    set.add(h);
    return () => void set.delete(h);
  }

  // ---- actions --------------------------------------------------------------------------------

  /**
   * Sends a message to the room (its `onMessage(type)` on the server). Structured data is MessagePack, a
   * Uint8Array goes raw. Throws SendError when the session cannot take it, or 'closed' once out of the room.
   */
  send(type: string, message?: unknown, options: RoomSendOptions = {}): void {
    if (this.left) throw new SendError('closed', `not in room '${this.name}' any more`);
    const channel = options.channel === undefined ? this.reliableOrdered : this.link.channel(options.channel);
    const raw = message instanceof Uint8Array;
    const seq = channel === this.reliableOrdered ? this.outbox.nextSeq() : 0;
    const frame = encodeRoomFrame({ op: 'send', room: this.roomNumber, seq, type, raw, body: raw ? message : encode(message ?? null) });
    this.link.send(channel, frame);
    if (seq > 0) this.outbox.keep(seq, frame);
  }

  /**
   * This room's input sender (docs/rooms.md, "Inputs"): fill `input.value`, call `input.send()` each tick;
   * the server's `onInput` gets every input once, in order, though packets are lost.
   */
  input<I extends Schema>(Input: new () => I, options: InputOptions = {}): InputSender<I> {
    const sender = new InputSender(new Input(), options, (bytes) => {
      if (this.left) throw new SendError('closed', `not in room '${this.name}' any more`);
      this.link.send(this.unreliableSequenced, encodeRoomFrame({ op: 'input', room: this.roomNumber, body: bytes }));
    });
    this.inputSenders.push(sender);
    return sender;
  }

  /** Leaves the room; resolves with the code of the leave (LeaveCode.Consented) once the server confirmed it. */
  leave(): Promise<number> {
    if (this.left) return Promise.resolve(this.left.code);
    this.leaving ??= new Promise<number>((resolve) => {
      this.on('leave', (code) => resolve(code));
      try {
        this.link.send(this.reliableOrdered, encodeRoomFrame({ op: 'leave', room: this.roomNumber }));
      } catch {
        this.ended(LeaveCode.Consented, 'left (the session could not send it)');
      }
    });
    return this.leaving;
  }

  // ---- frames ---------------------------------------------------------------------------------

  /** @internal A frame for this room. */
  handle(frame: RoomFrame): void {
    if (this.left) return;
    const d = this.decoderOf;
    switch (frame.op) {
      case 'state':
        if (!d) return;
        this.stats.fullStates++;
        this.stats.stateBytes += frame.body.length;
        if (!d.applyState(frame.patch, frame.body)) {
          this.stats.desyncs++;
          this.emitter.emit('error', new RoomError('failed', `room '${this.name}': a full state could not be decoded; asking again`));
          this.askResync();
          return;
        }
        this.emitter.emit('state-change', d.state);
        return;
      case 'patch':
        if (!d) return;
        this.stats.stateBytes += frame.body.length;
        if (d.awaitingState) return;
        if (!d.applyPatch(frame.patch, frame.body)) {
          this.stats.desyncs++;
          this.emitter.emit(
            'error',
            new RoomError('failed', `room '${this.name}': patch ${frame.patch} did not match the state here (desync); resyncing`),
          );
          this.askResync();
          return;
        }
        this.stats.patches++;
        this.emitter.emit('state-change', d.state);
        return;
      case 'digest':
        if (!d || d.checkDigest(frame.digest)) return;
        this.stats.desyncs++;
        this.emitter.emit(
          'error',
          new RoomError(
            'failed',
            `room '${this.name}': the state here differs from the server's after patch ${frame.patch} (desync); resyncing`,
          ),
        );
        this.askResync();
        return;
      case 'unreliable-patch':
        if (!d) return;
        this.stats.unreliablePatches++;
        d.applyUnreliable(frame.seq, frame.basis, frame.body);
        return;
      case 'message': {
        let message: unknown;
        try {
          message = frame.raw ? frame.body.slice() : decodeValue(frame.body, this.link.maxMessageDepth);
        } catch (e) {
          this.emitter.emit(
            'error',
            new RoomError('malformed', `room '${this.name}': message '${frame.type}' is unusable: ${(e as Error).message}`),
          );
          return;
        }
        if (this.held) this.held.push({ type: frame.type, message });
        else this.dispatch(frame.type, message);
        return;
      }
      case 'left':
        this.ended(frame.code, frame.text);
        return;
      default:
        return;
    }
  }

  /** @internal The join resolved: messages held meanwhile go out once the awaiting code has registered its handlers. */
  release(): void {
    this.link.defer(() => {
      const held = this.held ?? [];
      this.held = undefined;
      for (const h of held) this.dispatch(h.type, h.message);
    });
  }

  /**
   * @internal The room comes back on another session (client.reconnect(room)): the same object, handlers and
   * state; the full state that follows is applied with decodeResync, and the messages the server never got
   * (it got up to `lastSeq`) are sent again.
   */
  rebind(link: RoomLink, lastSeq: number): void {
    this.link = link;
    this.reliableOrdered = link.channel('reliable-ordered');
    this.unreliableSequenced = link.channel('unreliable-sequenced');
    for (const s of this.inputSenders) s.restart();
    this.left = undefined;
    this.leaving = undefined;
    this.held = [];
    this.decoderOf?.expectState();
    const { resend, lost } = this.outbox.since(lastSeq);
    for (const frame of resend) {
      try {
        link.send(this.reliableOrdered, frame);
      } catch (e) {
        this.emitter.emit('error', e as Error);
      }
    }
    if (lost > 0) {
      this.emitter.emit(
        'error',
        new RoomError(
          'lost-messages',
          `room '${this.name}': ${lost} message(s) sent before the reconnection were not received by the server and can no longer be resent`,
        ),
      );
    }
  }

  /** @internal Out of the room for good. */
  ended(code: number, text: string): void {
    if (this.left) return;
    this.left = { code, text };
    this.emitter.emit('leave', code, text);
  }

  private askResync(): void {
    try {
      this.link.send(this.reliableOrdered, encodeRoomFrame({ op: 'resync', room: this.roomNumber }));
    } catch (e) {
      this.emitter.emit('error', e as Error);
    }
  }

  private dispatch(type: string, message: unknown): void {
    const own = this.handlers.get(type);
    const targets = own && own.size > 0 ? [...own].map((h) => () => h(message)) : [...this.anyHandlers].map((h) => () => h(type, message));
    if (targets.length === 0) {
      if (!this.warned.has(type)) console.warn(`volley room '${this.name}': no handler for message type '${type}' (warned once)`);
      this.warned.add(type);
      return;
    }
    for (const t of targets) {
      try {
        t();
      } catch (e) {
        this.link.report(e);
      }
    }
  }
}
