/**
 * The listeners of a matchmaker driver's `watch()`: each hears every listing change; one that throws is
 * logged and the others still hear it. Shared by the drivers (memory-driver.ts, cluster/redis-driver.ts).
 */

import type { Unsubscribe } from '@volley/protocol';
import type { ListingChange } from './room-listing.js';

export class ListingWatchers {
  private readonly listeners = new Set<(change: ListingChange) => void>();

  add(listener: (change: ListingChange) => void): Unsubscribe {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  tell(change: ListingChange): void {
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (e) {
        console.error('volley matchmaker: a listing watcher threw', e);
      }
    }
  }
}
