/**
 * A room type: its name, its class, the options every room of it is created with, and how matchmaking picks
 * among its rooms (`filterBy`: options that must match; `sortBy`: which room first).
 *
 *   server.define('battle', Battle, { map: 'docks' }).filterBy(['mode']).sortBy({ clients: -1 });
 */

import type { Schema } from '@colyseus/schema';
import type { Room } from './room.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any room subclass, whatever its generics
export type RoomClass = new () => Room<any, any, any>;

export class RoomDefinition {
  private filterKeys: readonly string[] = [];
  private order: Record<string, 1 | -1> | undefined;

  constructor(
    readonly name: string,
    readonly roomClass: RoomClass,
    readonly defaultOptions: Record<string, unknown> = {},
  ) {}

  /** A client joining with `{ mode: 'ranked' }` only finds rooms created with the same `mode` (for each key). */
  filterBy(keys: readonly string[]): this {
    this.filterKeys = [...keys];
    return this;
  }

  /** Which available room a join picks first: 'clients', 'maxClients', 'createdAt' or 'metadata.<key>', 1 or -1. */
  sortBy(order: Record<string, 1 | -1>): this {
    this.order = { ...order };
    return this;
  }

  get sort(): Record<string, 1 | -1> | undefined {
    return this.order;
  }

  /** The definition's options under the client's. */
  optionsFor(clientOptions: unknown): unknown {
    if (clientOptions === undefined || clientOptions === null) return { ...this.defaultOptions };
    if (typeof clientOptions !== 'object' || Array.isArray(clientOptions)) return clientOptions;
    return { ...this.defaultOptions, ...(clientOptions as Record<string, unknown>) };
  }

  /** The filterBy values of `options` (what a room is listed with and a join must match). */
  filtersOf(options: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    if (typeof options !== 'object' || options === null) return out;
    for (const k of this.filterKeys) {
      const v = (options as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = v;
    }
    return out;
  }

  /** @internal */
  create(): Room<Schema | undefined> {
    return new this.roomClass() as Room<Schema | undefined>;
  }
}
