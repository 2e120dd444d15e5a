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

export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  // On one connection without the requests' statement timeout: building an index over a large
  // table, or waiting for another instance's migration lock, may take minutes.
  const { error, results } = await db.connection().execute(async (connection) => {
    await sql`SET statement_timeout = 0`.execute(connection);
    try {
      return await new Migrator({ db: connection, provider: new SqlFileMigrationProvider(MIGRATIONS_DIR) }).migrateToLatest();
    } finally {
      await sql`RESET statement_timeout`.execute(connection);
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
