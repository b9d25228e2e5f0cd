/**
 * The connections a process keeps to Redis (ioredis): one for commands, one for subscriptions (a subscribed
 * connection can run nothing else). Commands fail at once while Redis is unreachable (no offline queue: a join
 * gets a clear error rather than waiting); both reconnect by themselves, and `onReady` hears each time the
 * command connection is back, so what Redis lost (a restart keeps nothing) can be written again.
 */

import { Redis } from 'ioredis';

export interface RedisOptions {
  /** `redis://host:port[/db]`. */
  url: string;
  /** Prefix of every key and channel (default `volley:`): processes with the same prefix share matchmaking. */
  prefix?: string;
}

export type RedisReport = (error: unknown, what: string) => void;

export class RedisLink {
  readonly commands: Redis;
  readonly subscriber: Redis;
  readonly prefix: string;
  private readonly readyListeners = new Set<() => void>();
  private readonly handlers = new Map<string, (message: Buffer) => void>();
  private down = false;
  private started = false;

  constructor(
    options: RedisOptions,
    private readonly report: RedisReport,
  ) {
    if (!/^rediss?:\/\//.test(options.url)) throw new RangeError(`a Redis URL is redis://host:port, got ${JSON.stringify(options.url)}`);
    this.prefix = options.prefix ?? 'volley:';
    const common = {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 1,
      // Back off to one attempt a second, for as long as it takes.
      retryStrategy: (times: number) => Math.min(50 * times, 1000),
    };
    this.commands = new Redis(options.url, { ...common, enableOfflineQueue: false, connectionName: 'volley' });
    this.subscriber = new Redis(options.url, { ...common, connectionName: 'volley-subscriber' });
    for (const [name, r] of [
      ['commands', this.commands],
      ['subscriber', this.subscriber],
    ] as const) {
      r.on('error', (e: Error) => {
        if (name === 'commands' && !this.down) {
          this.down = true;
          this.report(e, 'Redis is unreachable; matchmaking across processes waits for it');
        }
      });
    }
    const back = (): void => {
      // Once both are up again (each says so when it is; the second to come back runs the listeners).
      if (!this.started || this.commands.status !== 'ready' || this.subscriber.status !== 'ready') return;
      if (this.down) console.error('volley: Redis is back');
      this.down = false;
      for (const l of [...this.readyListeners]) l();
    };
    this.commands.on('ready', back);
    this.subscriber.on('ready', back); // it resubscribes by itself; what it missed meanwhile is read again
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      const handler = this.handlers.get(channel.toString());
      if (!handler) return;
      try {
        handler(message);
      } catch (e) {
        this.report(e, `a message on ${channel.toString()}`);
      }
    });
  }

  /** Hears every message published on `channel` (this process's own included). */
  async subscribe(channel: string, handler: (message: Buffer) => void): Promise<void> {
    this.handlers.set(channel, handler);
    await this.subscriber.subscribe(channel);
  }

  /** Whether the command connection is up now. */
  get up(): boolean {
    return this.commands.status === 'ready';
  }

  key(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }

  /** Connects both; rejects (and closes them) when Redis cannot be reached. */
  async connect(): Promise<void> {
    try {
      await Promise.all([this.commands.connect(), this.subscriber.connect()]);
    } catch (e) {
      this.commands.disconnect();
      this.subscriber.disconnect();
      throw new Error(`cannot reach Redis: ${(e as Error).message}`, { cause: e });
    }
    this.started = true;
  }

  /** Runs `listener` each time a connection comes back after a drop (Redis may have lost everything). */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => void this.readyListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.readyListeners.clear();
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    this.commands.disconnect();
    this.subscriber.disconnect();
  }
}
