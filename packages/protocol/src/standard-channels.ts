/**
 * The channel layout the client and server SDKs use unless configured otherwise, and the names a game
 * uses to pick a channel per send.
 */

import type { ChannelKind, ChannelOptions } from './channel-config.js';

export const STANDARD_CHANNELS: readonly ChannelOptions[] = [
  { kind: 'reliable-ordered' },
  { kind: 'reliable-unordered' },
  { kind: 'unreliable-sequenced' },
  { kind: 'unreliable' },
];

/** A channel chosen by its index in the layout, or by kind (the first channel of that kind). */
export type ChannelChoice = number | ChannelKind;

export function channelIndex(layout: readonly ChannelOptions[], choice: ChannelChoice): number {
  const i = typeof choice === 'number' ? choice : layout.findIndex((c) => c.kind === choice);
  if (!Number.isInteger(i) || i < 0 || i >= layout.length) {
    throw new RangeError(`no channel ${JSON.stringify(choice)} in this layout (${layout.map((c) => c.kind).join(', ')})`);
  }
  return i;
}
