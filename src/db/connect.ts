import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { Kysely, PostgresDialect, type LogEvent, type PostgresPool, type PostgresPoolClient } from 'kysely';
import { currentTracedRequest } from '../shared/request-telemetry.js';
import { DatabaseAvailability, isConnectionError, markFromDatabase, type AvailabilityReport } from './connection-errors.js';
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

/** See ConnectOptions.connectTimeoutMs (PG_CONNECT_TIMEOUT_MS). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** Without a report of the caller's (scripts, tests), outages go to the console, once each. */
const CONSOLE_AVAILABILITY_REPORT: AvailabilityReport = {
  down: (error) => console.error(`[db] PostgreSQL is unreachable: ${error.message}`),
  up: ({ downMs, failures }) => console.error(`[db] PostgreSQL is reachable again after ${downMs} ms (${failures} failures meanwhile)`),
};

/** Distinct statement texts given a name; past this, new texts run unnamed (a bound, not a cache). */
const MAX_PREPARED_TEXTS = 1000;

/**
 * Names every parameterized statement after its text, so that pg prepares it once per connection
 * and PostgreSQL parses and plans it once instead of on every execution. Our statements are a
 * small fixed set (lists are passed as arrays, `= ANY($1)`, never as IN-lists of varying length),
 * so the names stay few. Statements without parameters (BEGIN, COMMIT, migrations) run as they are.
 *
 * It also keeps a checked-out client from ending the process: pg-pool listens for a client's
 * `error` event only while the client is idle, and a connection that dies while Kysely holds it
 * (between the statements of a transaction, say) emits one with nobody listening. So each checkout
 * listens until its release, and a client whose connection broke is released with the error, which
 * makes the pool discard it. Failures and successes go to `availability` (one log line per outage).
 */
function preparingPool(pool: pg.Pool, availability: DatabaseAvailability): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined && names.size < MAX_PREPARED_TEXTS && text.includes('$1')) {
      name = `q${names.size}`;
      names.set(text, name);
    }
    return name;
  };
  const failed = (error: Error) => {
    markFromDatabase(error);
    if (isConnectionError(error)) availability.failed(error);
  };
  return {
    async connect() {
      const epoch = availability.epoch;
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        failed(error as Error);
        throw error;
      }
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken = error;
        failed(error);
      };
      client.on('error', onError);
      const succeeded = <R>(result: R) => {
        availability.succeeded(epoch);
        return result;
      };
      const rejected = (error: Error): never => {
        if (isConnectionError(error)) broken ??= error;
        failed(error);
        throw error;
      };
      return {
        query: (text: string, values: unknown[]) => {
          const name = nameOf(text);
          return (name ? client.query({ name, text, values }) : client.query(text, values)).then(succeeded, rejected);
        },
        release: () => {
          client.off('error', onError);
          client.release(broken);
        },
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
  /** The connection pools and how many of their connections are open, idle, and asked for (none for the embedded database). */
  pools(): PoolStats[];
  close(): Promise<void>;
}

export interface PoolStats {
  /** `primary`: the one pool `db` and `background` share. */
  name: string;
  total: number;
  idle: number;
  /** Checkouts waiting for a connection. */
  waiting: number;
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
  /** Told when PostgreSQL becomes unreachable and when it is back, once each per outage (app.ts logs it). */
  availability?: AvailabilityReport;
  /** How long a request waits for a pool connection (a new one, or a free one of a full pool) before it fails; 0 waits for ever. */
  connectTimeoutMs?: number;
}

export async function connectDatabase(options: ConnectOptions): Promise<DatabaseHandle> {
  let statements = 0;
  let backgroundStatements = 0;
  const log = (event: LogEvent) => {
    statements++;
    // While tracing: the span of this statement, in the trace of the request that sent it (request-telemetry.ts).
    currentTracedRequest()?.trace?.statement(event.query.sql, event.queryDurationMillis);
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
      // While PostgreSQL is down, requests fail fast (SERVICE_UNAVAILABLE) instead of queueing without end.
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      options: '-c TimeZone=UTC',
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          TYPE_PARSERS[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
      },
    });
    const availability = new DatabaseAvailability(options.availability ?? CONSOLE_AVAILABILITY_REPORT);
    // An idle client that loses its connection (server restart) must not crash the process; the
    // pool discards it by itself.
    pool.on('error', (error) => {
      markFromDatabase(error);
      availability.failed(error);
    });
    // One wrapper for both instances: prepared statement names are per connection, so they must
    // come from one map. Only `db` is destroyed: it ends the pool they share.
    const preparing = preparingPool(pool, availability);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing }), log });
    const background = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing }), log: logBackground });
    const pools = () => [{ name: 'primary', total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }];
    return { db, background, backend: 'postgres', statementCount: () => statements, backgroundStatementCount: () => backgroundStatements, pools, close: () => db.destroy() };
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
  return { db, background, backend: 'pglite', statementCount: () => statements, backgroundStatementCount: () => backgroundStatements, pools: () => [], close: () => db.destroy() };
}
