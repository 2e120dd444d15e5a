import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { migrateToLatest } from '../../src/db/migrate.js';

export const onRealPostgres = Boolean(process.env.DATABASE_URL);

/** The database of this test file: the shared real PostgreSQL when DATABASE_URL is set, else a fresh in-memory PGlite. */
export async function openTestDatabase(): Promise<DatabaseHandle> {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) return connectDatabase({ databaseUrl, poolMax: 60 });
  // From the migrated copy global-setup.ts made once (a second), else initdb and every migration.
  const dump = process.env[PGLITE_DUMP_ENV];
  if (dump) return connectDatabase({ poolMax: 60, pgliteDump: new Blob([readFileSync(dump)]) });
  const handle = await connectDatabase({ poolMax: 60 });
  await migrateToLatest(handle.db);
  return handle;
}

/** Where global-setup.ts left the migrated embedded database for every test file to start from. */
export const PGLITE_DUMP_ENV = 'TEST_PGLITE_DUMP';

/**
 * A database of this test file alone, also on real PostgreSQL: a new database next to DATABASE_URL's,
 * migrated, and dropped on close. For tests of the booking events, whose relay positions every
 * committed event of its database: on the shared one, another test file's relay could take this
 * file's events, and tell its own bus rather than this file's. `url` is set on PostgreSQL (for
 * processes the test starts).
 */
export async function openIsolatedTestDatabase(): Promise<DatabaseHandle & { url: string | undefined }> {
  const base = process.env.DATABASE_URL;
  if (!base) return { ...(await openTestDatabase()), url: undefined };
  const url = new URL(base);
  const name = `${url.pathname.slice(1)}_iso_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  url.pathname = `/${name}`;
  const handle = await connectDatabase({ databaseUrl: url.toString(), poolMax: 60 });
  await migrateToLatest(handle.db);
  return {
    ...handle,
    url: url.toString(),
    async close() {
      await handle.close();
      const dropper = new pg.Client({ connectionString: base });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
