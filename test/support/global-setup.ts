import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { connectDatabase } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { PGLITE_DUMP_ENV } from './database.js';
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
  if (!databaseUrl) return prepareEmbeddedDatabase();
  const handle = await connectDatabase({ databaseUrl, poolMax: 2 });
  try {
    await sql`DROP SCHEMA IF EXISTS public CASCADE`.execute(handle.db);
    await sql`CREATE SCHEMA public`.execute(handle.db);
    await migrateToLatest(handle.db);
  } finally {
    await handle.close();
  }
}

/**
 * Without DATABASE_URL every test file opens its own in-memory PGlite. Starting one takes initdb
 * and every migration, about five seconds a file; starting from one migrated copy (its data
 * directory as a tarball) takes about one. The copy is made here, once, and removed after the run.
 * Test files that need an unmigrated database open one themselves.
 */
async function prepareEmbeddedDatabase(): Promise<() => void> {
  const handle = await connectDatabase({ poolMax: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'booking-api-pglite-'));
  try {
    await migrateToLatest(handle.db);
    const file = join(dir, 'migrated.tar');
    writeFileSync(file, Buffer.from(await (await handle.dumpDataDir!()).arrayBuffer()));
    process.env[PGLITE_DUMP_ENV] = file;
  } finally {
    await handle.close();
  }
  return () => rmSync(dir, { recursive: true, force: true });
}
