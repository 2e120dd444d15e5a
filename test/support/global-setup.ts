import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { findMissingPrerequisites } from './prerequisites.js';

/**
 * First what the machine must provide (Redis, redis-server): when something is missing the run
 * stops here with one line each, before any test file starts and before the database is touched.
 *
 * With DATABASE_URL, the tests share one real PostgreSQL database: it is reset and migrated once
 * here, and every test seeds its own rows through the builders (unique slugs), so test files can
 * run in parallel. Without it, each test file opens its own in-memory PGlite (see database.ts).
 */
export default async function setup() {
  const missing = await findMissingPrerequisites();
  if (missing.length > 0) {
    for (const line of missing) console.error(line);
    // Not a thrown error: vitest would print its stack, and the point is one line that says what to do.
    process.exit(1);
  }
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) return;
  const handle = await connectDatabase({ databaseUrl, poolMax: 2 });
  try {
    await sql`DROP SCHEMA IF EXISTS public CASCADE`.execute(handle.db);
    await sql`CREATE SCHEMA public`.execute(handle.db);
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
}
