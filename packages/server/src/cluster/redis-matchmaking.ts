/**
 * Matchmaking shared through Redis, in one piece: the connections, the listings (RedisDriver), the locks
 * (RedisPresence) and the processes (RedisCluster), under one key prefix. What `new Server({ redis })` and
 * `volley serve --redis URL` build; docs/scaling.md says what Redis holds and what happens when it goes.
 */

import { RedisCluster, type RedisClusterOptions } from './redis-cluster.js';
import { RedisDriver } from './redis-driver.js';
import { RedisLink, type RedisOptions, type RedisReport } from './redis-link.js';
import { RedisPresence } from './redis-presence.js';

export interface RedisMatchmakingOptions extends RedisOptions, RedisClusterOptions {}

export class RedisMatchmaking {
  readonly link: RedisLink;
  readonly driver: RedisDriver;
  readonly presence: RedisPresence;
  readonly cluster: RedisCluster;

  constructor(options: RedisMatchmakingOptions, processId: string, report: RedisReport) {
    this.link = new RedisLink(options, report);
    this.presence = new RedisPresence(this.link);
    this.cluster = new RedisCluster(this.link, this.presence, processId, (id) => this.driver.removeProcess(id), report, options);
    this.driver = new RedisDriver(this.link, processId, (id) => id === processId || this.cluster.process(id) !== undefined, report);
  }

  /** Connects and loads the listings; the cluster starts with the matchmaker (it needs `self`). */
  async open(): Promise<void> {
    await this.link.connect();
    try {
      await this.driver.start();
    } catch (e) {
      await this.link.close();
      throw e;
    }
  }

  /** Leaves: this process's listings and heartbeat are removed, then the connections close. */
  async close(): Promise<void> {
    await this.cluster.stop();
    this.driver.stop();
    await this.driver.removeOwn();
    await this.link.close();
  }
}
