import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';

/**
 * With DATABASE_URL, the tests share one real PostgreSQL database: it is reset and migrated once
 * here, and every test seeds its own rows through the builders (unique slugs), so test files can
 * run in parallel. Without it, each test file opens its own in-memory PGlite (see database.ts).
 */
export default async function setup() {
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
