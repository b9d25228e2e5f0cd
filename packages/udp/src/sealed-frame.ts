/**
 * Sealing and opening the frames of one link (layouts in frame.ts): a FrameSealer numbers and encrypts what one
 * side sends, a FrameOpener authenticates what it receives and refuses replays. Both sides of a link hold one of
 * each, with the opposite keys.
 */

import { frameAad, UDP_LINK_ID_SIZE, UDP_MAX_PN, UDP_PN_SIZE, UDP_TAG_SIZE, writePn, type UdpFrameType } from './frame.js';
import { PacketKey } from './packet-key.js';
import { ReplayWindow } from './replay-window.js';

export interface SealOptions {
  /**
   * Bytes after the type byte and before the link id / pn (COOKIE-ECHO: nonce | cookie | token). They are
   * associated data too, so the sealed datagram cannot be moved behind another cookie or token.
   */
  prefix?: Uint8Array;
  /** Put the link id on the wire after the prefix (client → server DATA and RESPONSE). */
  withLinkId?: boolean;
}

export class FrameSealer {
  private readonly key: PacketKey;
  private pn: number;

  /**
   * `firstPn`: the first packet number. The server starts each link at a random one, so that a token redeemed
   * twice (by two processes sharing its key) never has the same key seal two frames under the same number.
   */
  constructor(
    key: Uint8Array,
    private readonly linkId: Uint8Array,
    firstPn = 0,
  ) {
    if (!Number.isSafeInteger(firstPn) || firstPn < 0) throw new RangeError('udp: firstPn must be a safe integer ≥ 0');
    this.key = new PacketKey(key);
    this.pn = firstPn;
  }

  /** The next packet number this sealer will use. */
  get nextPn(): number {
    return this.pn;
  }

  /** Bytes a frame adds around its payload. */
  static overhead(options: SealOptions = {}): number {
    return 1 + (options.prefix?.length ?? 0) + (options.withLinkId ? UDP_LINK_ID_SIZE : 0) + UDP_PN_SIZE + UDP_TAG_SIZE;
  }

  /** A whole frame: type | prefix | link id? | pn | sealed payload. Throws once packet numbers run out. */
  seal(type: UdpFrameType, payload: Uint8Array, options: SealOptions = {}): Buffer {
    if (this.pn > UDP_MAX_PN) throw new RangeError('udp: packet numbers exhausted on this link');
    const pn = this.pn++;
    const frame = Buffer.allocUnsafe(FrameSealer.overhead(options) + payload.length);
    let at = 0;
    frame[at++] = type;
    if (options.prefix) {
      frame.set(options.prefix, at);
      at += options.prefix.length;
    }
    if (options.withLinkId) {
      frame.set(this.linkId, at);
      at += UDP_LINK_ID_SIZE;
    }
    writePn(frame, at, pn);
    at += UDP_PN_SIZE;
    this.key.sealInto(frame, at, pn, frameAad(type, this.linkId, pn, options.prefix), payload);
    return frame;
  }
}

export class FrameOpener {
  private readonly key: PacketKey;
  private readonly window = new ReplayWindow();

  constructor(
    key: Uint8Array,
    private readonly linkId: Uint8Array,
  ) {
    this.key = new PacketKey(key);
  }

  /** The largest packet number taken so far (-1: none). */
  get highest(): number {
    return this.window.highest;
  }

  /**
   * The payload of a frame of `type` numbered `pn` whose sealed part is `sealed`, or why not: 'replay' (seen or
   * too old: not even decrypted) or 'forged' (not authentic). Only an authentic fresh frame moves the window.
   * `prefix`: the frame's bytes between its type and its pn, when they are associated data (COOKIE-ECHO).
   */
  open(type: UdpFrameType, pn: number, sealed: Uint8Array, prefix?: Uint8Array): Uint8Array | 'replay' | 'forged' {
    if (pn < 0 || !this.window.fresh(pn)) return 'replay';
    const plain = this.key.open(pn, frameAad(type, this.linkId, pn, prefix), sealed);
    if (!plain) return 'forged';
    this.window.take(pn);
    return plain;
  }
}
