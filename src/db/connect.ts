import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { Kysely, PostgresDialect, type LogEvent, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type { Database } from './tables.js';
import { PGliteDialect } from './pglite-dialect.js';

/**
 * Both backends return values in the same shapes, chosen for the hot path:
 * - bigint (ids, counts) as strings: ids are opaque anyway, and no precision is ever lost;
 * - timestamptz as an RFC 3339 UTC string ("2026-11-22T10:00:00Z"): the session runs in UTC, so
 *   PostgreSQL's text form only needs two characters changed; no Date object per value;
 * - date as "YYYY-MM-DD" (pg's default would build a Date at local midnight, a classic bug).
 */
export function timestampToRfc3339(text: string): string {
  // "2026-11-22 10:00:00+00" or "2026-11-22 10:00:00.123456+00"
  if (text.length >= 22 && text.charCodeAt(10) === 32 && text.endsWith('+00')) {
    return `${text.slice(0, 10)}T${text.slice(11, -3)}Z`;
  }
  return new Date(text).toISOString();
}
const identity = (text: string) => text;
const TYPE_PARSERS: Record<number, (text: string) => unknown> = {
  20: identity, // int8
  1082: identity, // date
  1114: (text) => timestampToRfc3339(`${text}+00`), // timestamp (without time zone): read as UTC
  1184: timestampToRfc3339, // timestamptz
};

/** Distinct statement texts given a name; past this, new texts run unnamed (a bound, not a cache). */
const MAX_PREPARED_TEXTS = 1000;

/**
 * Names every parameterized statement after its text, so that pg prepares it once per connection
 * and PostgreSQL parses and plans it once instead of on every execution. Our statements are a
 * small fixed set (lists are passed as arrays, `= ANY($1)`, never as IN-lists of varying length),
 * so the names stay few. Statements without parameters (BEGIN, COMMIT, migrations) run as they are.
 */
function preparingPool(pool: pg.Pool): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED_TEXTS && text.includes('$1')) {
      name = `q${names.size}`;
      names.set(text, name);
    }
    return name;
  };
  return {
    async connect() {
      const client = await pool.connect();
      return {
        query: (text: string, values: unknown[]) => {
          const name = nameOf(text);
          return name ? client.query({ name, text, values }) : client.query(text, values);
        },
        release: () => client.release(),
      } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  /**
   * The same database (pool or embedded session) for work no request waits for: the outbox relay,
   * the event hub, the webhook dispatcher. Its statements are counted apart, so that
   * `statementCount()` measures what requests cost while such work runs beside them.
   */
  background: Kysely<Database>;
  backend: 'postgres' | 'pglite';
  /** Statements sent since start by requests; tests read it to prove a query's cost does not grow with page size. */
  statementCount(): number;
  /** Statements sent since start through `background`. */
  backgroundStatementCount(): number;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** A PostgreSQL URL; without it, an embedded PGlite database in `dataDir` (or in memory). */
  databaseUrl?: string;
  poolMax?: number;
  /** Embedded database directory; `memory://` for a throwaway one. */
  dataDir?: string;
  /**
   * PostgreSQL cancels a statement running longer than this (SQLSTATE 57014); 0 or unset: never.
   * Set on every pooled connection; work that may run longer (migrations, the slot generation
   * job) lifts it for itself. PGlite has no timer to cancel a statement with: there it is ignored.
   */
  statementTimeoutMs?: number;
  /** Called with every statement sent and how long it took (slow-query logging). */
  onStatement?: (event: LogEvent, background: boolean) => void;
}

export async function connectDatabase(options: ConnectOptions): Promise<DatabaseHandle> {
  let statements = 0;
  let backgroundStatements = 0;
  const log = (event: LogEvent) => {
    statements++;
    options.onStatement?.(event, false);
  };
  const logBackground = (event: LogEvent) => {
    backgroundStatements++;
    options.onStatement?.(event, true);
  };

  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolMax ?? 20,
      options: '-c TimeZone=UTC',
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          TYPE_PARSERS[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its connection (server restart) must not crash the process.
    pool.on('error', (error) => console.error('[db] idle client error:', error.message));
    // One wrapper for both instances: prepared statement names are per connection, so they must
    // come from one map. Only `db` is destroyed: it ends the pool they share.
    const preparing = preparingPool(pool);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing }), log });
    const background = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing }), log: logBackground });
    return { db, background, backend: 'postgres', statementCount: () => statements, backgroundStatementCount: () => backgroundStatements, close: () => db.destroy() };
  }

  const { PGlite } = await import('@electric-sql/pglite');
  const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist');
  const dataDir = options.dataDir ?? 'memory://';
  if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir, { extensions: { btree_gist }, parsers: TYPE_PARSERS });
  await client.exec(`SET TIME ZONE 'UTC'`);
  // Both instances take turns on the one session (the dialect's lock is per client).
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client), log });
  const background = new Kysely<Database>({ dialect: new PGliteDialect(client), log: logBackground });
  return { db, background, backend: 'pglite', statementCount: () => statements, backgroundStatementCount: () => backgroundStatements, close: () => db.destroy() };
}
