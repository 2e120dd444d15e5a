/**
 * npm run reviews:rebuild
 *
 * Recomputes the rating aggregates (Business.rating, Partner.rating, Service.rating) from the
 * reviews, in one transaction, on the database of DATABASE_URL (or the embedded one in DATA_DIR):
 * see src/reviews/rating-rebuild.ts. Safe while the API runs: review mutations wait for it.
 */
import { connectDatabase } from '../src/db/connect.js';
import { migrateToLatest } from '../src/db/migrate.js';
import { rebuildRatings } from '../src/reviews/rating-rebuild.js';

const handle = await connectDatabase({ databaseUrl: process.env.DATABASE_URL || undefined, dataDir: process.env.DATA_DIR || '.data/pglite', poolMax: 1 });
try {
  await migrateToLatest(handle.db);
  const started = performance.now();
  const written = await rebuildRatings(handle.db);
  console.log(`[reviews] rebuilt ${written} ratings in ${(performance.now() - started).toFixed(0)} ms`);
} finally {
  await handle.close();
}
