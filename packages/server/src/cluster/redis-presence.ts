/**
 * Locks shared through Redis, so two processes racing a joinOrCreate for a room that does not exist yet
 * create one room, not two. A lock is `SET <prefix>lock:<key> <token> NX PX ttl`: it frees itself after
 * `ttl` even if its holder dies, and is released only by its holder (a compare-and-delete script).
 */

import { randomBytes } from 'node:crypto';
import type { Presence } from '../rooms/matchmaker-driver.js';
import type { RedisLink } from './redis-link.js';

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

export class RedisPresence implements Presence {
  constructor(private readonly link: RedisLink) {}

  async withLock<T>(key: string, ttlMs: number, critical: () => Promise<T>): Promise<T> {
    const lock = this.link.key('lock', key);
    const token = randomBytes(12).toString('base64url');
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const deadline = Date.now() + ttl;
    let wait = 2;
    for (;;) {
      try {
        if ((await this.link.commands.set(lock, token, 'PX', ttl, 'NX')) === 'OK') break;
      } catch (e) {
        // Redis away for a moment (a restart): wait for it within the lock's time, like for a taken lock.
        if (this.link.up || Date.now() >= deadline) throw e;
      }
      if (Date.now() >= deadline) throw new Error(`the lock '${key}' stayed taken for ${ttl} ms`);
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 50);
    }
    try {
      return await critical();
    } finally {
      await this.link.commands.eval(RELEASE, 1, lock, token).catch(() => undefined); // else it expires by itself
    }
  }
}
