/**
 * One client in one room, as the room sees it (Colyseus's `Client`): its seat id (`sessionId`), what the
 * room's onAuth returned (`auth`), the room's own data about it (`userData`), what it may see of the state
 * (`view`), and how to talk to it. A seat outlives the session it was taken on while the room holds it for
 * a reconnection (`state` 'dropped'); the reconnected client is the same RoomClient on a new session.
 */

import type { StateView } from '@colyseus/schema';
import { encode } from '@msgpack/msgpack';
import { encodeRoomFrame, type ChannelChoice } from '@volley/protocol';
import type { RoomPeer } from './room-peer.js';

export type RoomClientState =
  /** onAuth / onJoin running. */
  | 'joining'
  /** In the room: receives patches and messages. */
  | 'joined'
  /** Its session ended; the room holds its seat for a reconnection (allowReconnection). */
  | 'dropped'
  /** Out of the room for good. */
  | 'left';

export interface RoomSendOptions {
  /** Channel by index or kind. Default 'reliable-ordered'. */
  channel?: ChannelChoice;
}

/** What a RoomClient asks of the room it is in. */
export interface RoomClientHost {
  readonly roomNumber: number;
  channel(choice: ChannelChoice | undefined): number;
  deliver(client: RoomClient, channel: number, frame: Uint8Array): void;
  kick(client: RoomClient, code: number, text: string): void;
}

export class RoomClient<UserData = unknown, Auth = unknown> {
  /** The room's own data about this client (anything). */
  userData: UserData | undefined;
  /** What the room's onAuth returned for it. */
  auth: Auth = undefined as Auth;
  /**
   * What this client may see of a state with `.view()` fields (interest management). Set it in onJoin:
   * `client.view = new StateView(); client.view.add(player)`. Clients that share one StateView share its
   * encoded patches.
   */
  view: StateView | undefined;
  state: RoomClientState = 'joining';
  /** @internal The session it is on (undefined while dropped). */
  peer: RoomPeer | undefined;
  /** @internal The highest numbered reliable message received from it (reconnection resends what came after). */
  lastSeq = 0;
  /** @internal Waiting for its full state (sent with the next patch). */
  needsState = false;
  /** The sequence number of the last input the room took from this client (0: none yet); a game echoes it in the state for reconciliation. */
  lastInputSeq = 0;
  /** @internal Gets state digests (a client on Reflection cannot check them when the state has @unreliable fields). */
  digests = true;

  /** @internal created by the room's runtime */
  constructor(
    private readonly host: RoomClientHost,
    /** The seat's id in this room: what other clients see as its key (e.g. in `state.players`). */
    readonly sessionId: string,
    /** What the client rejoins with after losing its session (`roomId:secret`). */
    readonly reconnectionToken: string,
    peer: RoomPeer,
  ) {
    this.peer = peer;
  }

  /** The server session it is on now (`Session.id`), undefined while dropped. */
  get sessionNumber(): number | undefined {
    return this.peer?.id;
  }

  /** The session's user data (what the server's onAuth returned). */
  get user(): unknown {
    return this.peer?.user;
  }

  /** Round-trip time to the client, ms (0 while dropped). */
  get rtt(): number {
    return this.peer?.rtt() ?? 0;
  }

  /**
   * Sends a message to this client in this room (its room's `onMessage(type)` gets it). Structured data is
   * MessagePack, a Uint8Array goes raw. Dropped while the client is away (the state it gets back is
   * complete); throws SendError when its session cannot take it.
   */
  send(type: string, message?: unknown, options: RoomSendOptions = {}): void {
    if (this.state !== 'joined' && this.state !== 'joining') return;
    this.host.deliver(this, this.host.channel(options.channel), messageFrame(this.host.roomNumber, type, message));
  }

  /** Removes the client from the room (it gets onLeave with `code`, 100–65535 for applications, and `text`). */
  leave(code = 100, text = ''): void {
    this.host.kick(this, code, text);
  }
}

/** A MESSAGE room frame: a type and a value (MessagePack, or raw bytes). */
export function messageFrame(room: number, type: string, message: unknown): Uint8Array {
  const raw = message instanceof Uint8Array;
  return encodeRoomFrame({ op: 'message', room, type, raw, body: raw ? message : encode(message ?? null) });
}
