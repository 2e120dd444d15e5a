import type { ReadThroughCache } from '../cache/keyed-cache.js';
import type { Db } from '../db/sql-helpers.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import { findCitiesOfPartners } from './availability.repository.js';
import { businessScope, cityScope } from './availability.queries.js';

/**
 * Keeps the availability cache fresh: every committed change (a booking created, confirmed,
 * cancelled or rescheduled, a partner activated or deactivated, a slot blocked or unblocked, slots
 * generated, a schedule changed) bumps the generation of its business and of the cities of the
 * partners it touched, before its mutation returns. The cost is one indexed lookup of those cities
 * and one Redis round trip, whatever the cache holds.
 */
export function subscribeAvailabilityInvalidation(changes: ChangeFeed, cache: ReadThroughCache, db: Db): () => void {
  return changes.subscribe(async (change) => {
    if (change.availability === false) return;
    let cities: string[];
    try {
      cities = await findCitiesOfPartners(db, change.businessId, change.partnerIds);
    } catch (error) {
      // The business's starts are made fresh at least; the feed logs the failure.
      await cache.invalidate([businessScope(change.businessId)]);
      throw error;
    }
    await cache.invalidate([businessScope(change.businessId), ...[...new Set([...cities, ...(change.cities ?? [])])].map(cityScope)]);
  });
}
