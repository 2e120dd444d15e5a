import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';

export const onRealPostgres = Boolean(process.env.DATABASE_URL);

/** The database of this test file: the shared real PostgreSQL when DATABASE_URL is set, else a fresh in-memory PGlite. */
export async function openTestDatabase(): Promise<DatabaseHandle> {
  const databaseUrl = process.env.DATABASE_URL;
  const handle = await connectDatabase({ databaseUrl, poolMax: 60 });
  if (!databaseUrl) await migrateToLatest(handle.db);
  return handle;
}
