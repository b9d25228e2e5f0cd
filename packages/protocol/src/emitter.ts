/**
 * A small typed event emitter for the SDKs (browser-safe, no node:events): any number of listeners per event,
 * `on()` returns the function that removes the listener. A listener that throws never stops the others; its
 * error goes to the `failed` callback the owner gives (the SDKs report it as an 'error' event).
 */

export type Unsubscribe = () => void;

export class Emitter<E extends Record<string, unknown[]>> {
  private readonly listeners: { [K in keyof E]?: ((...args: E[K]) => void)[] } = {};

  constructor(private readonly failed: (error: unknown, event: keyof E) => void) {}

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): Unsubscribe {
    (this.listeners[event] ??= []).push(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    const l = this.listeners[event];
    if (l) this.listeners[event] = l.filter((x) => x !== listener);
  }

  /** Listeners of `event` now. */
  count(event: keyof E): number {
    return this.listeners[event]?.length ?? 0;
  }

  /** Calls every listener of `event` (a copy of the list: listeners may unsubscribe while it runs). */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const l of this.listeners[event] ?? []) {
      try {
        l(...args);
      } catch (e) {
        this.failed(e, event);
      }
    }
  }
}
