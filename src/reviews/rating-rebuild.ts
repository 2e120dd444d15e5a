import type { Db } from '../db/sql-helpers.js';
import { rebuildAllRatings } from './reviews.repository.js';

/**
 * Recomputes every business's, partner's and service's rating from the visible reviews, in one
 * transaction: what the review mutations keep up incrementally, from scratch. For a repair after a
 * manual change to reviews, or to check the incremental result (test/reviews/ratings.test.ts).
 * Review mutations wait while it runs. Returns how many ratings it wrote.
 */
export function rebuildRatings(db: Db): Promise<number> {
  return db.transaction().execute((trx) => rebuildAllRatings(trx));
}
