import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MIGRATION_TABLE, Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations', import.meta.url));

/**
 * Splits a SQL file into statements at top-level semicolons, leaving semicolons inside quotes,
 * dollar-quoted bodies and comments alone. PGlite's extended protocol takes one statement a call.
 */
export function splitSqlStatements(text: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '-' && text[i + 1] === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end + 1;
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end === -1 ? text.length : end + 2;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      while (j < text.length && !(text[j] === ch && text[j + 1] !== ch)) j += text[j] === ch ? 2 : 1;
      i = j + 1;
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(text.slice(i))?.[0];
      if (tag) {
        const end = text.indexOf(tag, i + tag.length);
        i = end === -1 ? text.length : end + tag.length;
      } else i++;
    } else if (ch === ';') {
      statements.push(text.slice(start, i));
      i++;
      start = i;
    } else i++;
  }
  statements.push(text.slice(start));
  return statements.map((s) => s.trim()).filter((s) => s.replace(/--[^\n]*/g, '').trim().length > 0);
}

/** Migrations are timestamp-named .sql files, frozen in time: they never import application code. */
class SqlFileMigrationProvider implements MigrationProvider {
  constructor(private readonly dir: string) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const files = (await readdir(this.dir)).filter((f) => f.endsWith('.sql')).sort();
    const migrations: Record<string, Migration> = {};
    for (const file of files) {
      const statements = splitSqlStatements(await readFile(join(this.dir, file), 'utf8'));
      migrations[file.replace(/\.sql$/, '')] = {
        async up(db) {
          for (const statement of statements) await sql.raw(statement).execute(db);
        },
      };
    }
    return migrations;
  }
}

/** pg_advisory_xact_lock key: "migrate" in ASCII; held by the transaction that runs the migrations. */
const MIGRATION_LOCK_KEY = 0x6d696772617465;

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // In one transaction of our own, on one connection, without the requests' statement timeout
  // (building an index over a large table, or waiting for another instance's migrations, may take
  // minutes). Everything the migrator does (Kysely's session advisory lock and its unlock included)
  // happens inside it, so that behind PgBouncer in transaction mode it all runs on one server
  // connection, and no setting or lock outlives it on a connection other clients get next. Our
  // transaction-scoped lock comes first: two instances migrating a fresh database at once would
  // otherwise both create the migrator's own tables.
  const { error, results } = await db.connection().execute(async (connection) => {
    await sql`BEGIN`.execute(connection);
    try {
      await sql`SET LOCAL statement_timeout = 0`.execute(connection);
      await sql`/* lockMigrations */ SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY}::bigint)`.execute(connection);
      const outcome = await new Migrator({ db: connection, provider: new SqlFileMigrationProvider(MIGRATIONS_DIR), disableTransactions: true }).migrateToLatest();
      await sql.raw(outcome.error ? 'ROLLBACK' : 'COMMIT').execute(connection);
      return outcome;
    } catch (error) {
      await sql`ROLLBACK`.execute(connection).catch(() => undefined);
      throw error;
    }
  });
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * The migration files this build carries that the database has not applied (GET /readyz: an
 * instance of a newer build must not take traffic before its migrations ran). The file names are
 * read once; each call is one statement.
 */
export function pendingMigrationsCheck(db: Kysely<any>): () => Promise<string[]> {
  let names: Promise<string[]> | undefined;
  return async () => {
    names ??= readdir(MIGRATIONS_DIR).then((files) => files.filter((f) => f.endsWith('.sql')).sort().map((f) => f.replace(/\.sql$/, '')));
    const expected = await names;
    const applied = await sql<{ name: string }>`/* findAppliedMigrations */ SELECT name FROM ${sql.table(DEFAULT_MIGRATION_TABLE)} WHERE name = ANY(${expected})`.execute(db);
    const done = new Set(applied.rows.map((r) => r.name));
    return expected.filter((name) => !done.has(name));
  };
}
