/** A tiny typed event emitter (browser-safe; no node:events). Listener errors never break the emitter. */
export class Emitter<E extends Record<string, unknown[]>> {
  private readonly listeners: { [K in keyof E]?: ((...args: E[K]) => void)[] } = {};

  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    (this.listeners[event] ??= []).push(listener);
    return this;
  }

  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this {
    const l = this.listeners[event];
    if (l) this.listeners[event] = l.filter((x) => x !== listener);
    return this;
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const l of this.listeners[event] ?? []) {
      try {
        l(...args);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
