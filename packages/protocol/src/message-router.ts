/**
 * The SDKs' message handlers by type, one implementation for server and client: any number of handlers
 * per type, catch-all handlers for types that have none, and a count of messages nobody took (the hosts
 * warn once per type). `H` is a type's handler, `A` a catch-all handler; the host decides how to call them.
 */

import type { Unsubscribe } from './emitter.js';

export type RouteResult = 'handled' | 'first-unhandled' | 'unhandled';

export class MessageRouter<H, A> {
  private readonly own = new Map<string, Set<H>>();
  private readonly any = new Set<A>();
  private readonly unhandledCounts = new Map<string, number>();

  /** Adds a handler for `type`; returns the function that removes it. */
  on(type: string, handler: H): Unsubscribe {
    let set = this.own.get(type);
    if (!set) this.own.set(type, (set = new Set()));
    set.add(handler);
    return () => {
      set.delete(handler);
      if (set.size === 0 && this.own.get(type) === set) this.own.delete(type);
    };
  }

  /** Adds a handler for every type that has none of its own. */
  onAny(handler: A): Unsubscribe {
    this.any.add(handler);
    return () => void this.any.delete(handler);
  }

  /**
   * Hands a message of `type` to its handlers (a copy of the list: they may unsubscribe meanwhile), else to
   * the catch-all ones, else counts it. 'first-unhandled' the first time a type goes unhandled.
   */
  route(type: string, callOwn: (handler: H) => void, callAny: (handler: A) => void): RouteResult {
    const own = this.own.get(type);
    if (own) {
      for (const h of [...own]) callOwn(h);
      return 'handled';
    }
    if (this.any.size > 0) {
      for (const h of [...this.any]) callAny(h);
      return 'handled';
    }
    const n = (this.unhandledCounts.get(type) ?? 0) + 1;
    this.unhandledCounts.set(type, n);
    return n === 1 ? 'first-unhandled' : 'unhandled';
  }

  /** Messages nobody took, by type. */
  get unhandled(): ReadonlyMap<string, number> {
    return this.unhandledCounts;
  }
}
