import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { connectDatabase, timestampToRfc3339 } from '../../src/db/connect.js';
import { splitSqlStatements } from '../../src/db/migrate.js';
import { onRealPostgres } from '../support/database.js';

describe('Database connection: value shapes and statements', () => {
  it('returns bigint as a string, timestamptz as RFC 3339 UTC and date as YYYY-MM-DD', async () => {
    const handle = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 1 });
    try {
      const { rows } = await sql<{ b: unknown; t: unknown; d: unknown }>`
        SELECT 9007199254740993::bigint AS b, '2026-03-29 01:30:00.25+01'::timestamptz AS t, '2026-03-29'::date AS d`.execute(handle.db);
      expect(rows[0]).toEqual({ b: '9007199254740993', t: '2026-03-29T00:30:00.25Z', d: '2026-03-29' });
    } finally {
      await handle.close();
    }
  });

  it('turns PostgreSQL timestamps into RFC 3339 without building a Date where it can', () => {
    expect(timestampToRfc3339('2026-11-22 10:00:00+00')).toBe('2026-11-22T10:00:00Z');
    expect(timestampToRfc3339('2026-11-22 10:00:00.123456+00')).toBe('2026-11-22T10:00:00.123456Z');
    expect(timestampToRfc3339('2026-11-22 11:00:00+01')).toBe('2026-11-22T10:00:00.000Z');
  });

  it.runIf(onRealPostgres)('prepares a parameterized statement once per connection and reuses it', async () => {
    const handle = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 1 });
    try {
      for (let i = 0; i < 3; i++) await sql`SELECT ${i}::int + 40 AS prepared_probe`.execute(handle.db);
      const { rows } = await sql<{ name: string }>`SELECT name FROM pg_prepared_statements WHERE statement LIKE '%prepared_probe%'`.execute(handle.db);
      expect(rows).toHaveLength(1);
    } finally {
      await handle.close();
    }
  });

  it('splits a migration at top-level semicolons only', () => {
    const text = `CREATE TABLE a (x text DEFAULT ';'); -- a comment; with a semicolon
      CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;
      /* block; comment */ SELECT 'it''s; fine';`;
    expect(splitSqlStatements(text)).toEqual([
      `CREATE TABLE a (x text DEFAULT ';')`,
      '-- a comment; with a semicolon\n      CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql',
      `/* block; comment */ SELECT 'it''s; fine'`,
    ]);
  });
});
