import { mkdirSync } from 'node:fs';
import pg from 'pg';
import { Kysely, PostgresDialect, type LogEvent, type PostgresPool, type PostgresPoolClient } from 'kysely';
import { currentTracedRequest } from '../shared/request-telemetry.js';
import { DatabaseAvailability, isConnectionError, markFromDatabase, type AvailabilityReport } from './connection-errors.js';
import { DEFAULT_REPLICA_CHECK_INTERVAL_MS, DEFAULT_REPLICA_MAX_LAG_MS, ReadReplicas, type ReadReplicasOptions } from './replicas.js';
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

/**
 * PgBouncer refuses a connection whose startup packet carries a setting it does not track; the only
 * one we send besides TimeZone is statement_timeout (PG_STATEMENT_TIMEOUT_MS). Its bare message
 * ("unsupported startup parameter: statement_timeout") says nothing about the fix: this one does.
 */
function explainRefusedParameter(error: Error): Error {
  const refused = /unsupported startup parameter: (\w+)/.exec(error.message)?.[1];
  if (refused !== 'statement_timeout') return error;
  return new Error(
    'Expected a server that accepts statement_timeout at connection start, got a pooler (PgBouncer) that refuses it: behind PgBouncer set PG_STATEMENT_TIMEOUT_MS=0 and give the role the timeout instead (ALTER ROLE ... SET statement_timeout = \'5s\'), see README "PgBouncer".',
    { cause: error },
  );
}

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
function preparingPool(pool: pg.Pool, availability: DatabaseAvailability, prepare = true): PostgresPool {
  const names = new Map<string, string>();
  const nameOf = (text: string) => {
    let name = names.get(text);
    if (name === undefined && prepare && names.size < MAX_PREPARED_TEXTS && text.includes('$1')) {
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
        throw explainRefusedParameter(error as Error);
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
  /**
   * For reads a replica may serve (catalog, availability): the read replicas of DATABASE_READ_URL
   * while one is up and close enough behind, else the primary; `db` itself without replicas. Its
   * statements count with `db`'s. Which requests may use it is the request context's choice.
   */
  read: Kysely<Database>;
  /** The read replicas and their lag (null without DATABASE_READ_URL); /readyz reports `status()`. */
  replicas: ReadReplicas | null;
  /** The connection pools and how many of their connections are open, idle, and asked for (none for the embedded database). */
  pools(): PoolStats[];
  /** The embedded database's whole data directory as a tarball (test/support/global-setup.ts); absent on PostgreSQL. */
  dumpDataDir?(): Promise<Blob>;
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
   * An embedded database to start from (a `dumpDataDir()` tarball): tests start each file from one
   * migrated copy in about a second, instead of initdb and every migration (about five).
   */
  pgliteDump?: Blob;
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
  /**
   * Named (per-connection) prepared statements; default on. Off behind a pooler that hands each
   * transaction to any server connection (PgBouncer in transaction mode before 1.21): a name
   * prepared on one server connection is unknown on the next (PG_PREPARED_STATEMENTS=false).
   */
  preparedStatements?: boolean;
  /** Streaming replicas for `read` (DATABASE_READ_URL); each gets a pool of `poolMax`. */
  readUrls?: string[];
  /** Bound and check interval of the replicas' lag, and whom to tell when one starts or stops serving. */
  replication?: Partial<ReadReplicasOptions>;
}

/**
 * Sends `TimeZone=UTC` as a startup parameter of its own rather than in `options` (`-c TimeZone=UTC`):
 * PostgreSQL takes any setting there, and PgBouncer accepts this one (it tracks TimeZone and sets it
 * on whichever server connection serves the client) where it refuses `options` outright.
 */
class UtcClient extends pg.Client {
  getStartupConf(): Record<string, string> {
    return { ...(pg.Client.prototype as unknown as { getStartupConf(): Record<string, string> }).getStartupConf.call(this), TimeZone: 'UTC' };
  }
}

/** A pool of `url` as every pool of ours is set up, and its preparing wrapper. */
function openPool(url: string, options: ConnectOptions, report: AvailabilityReport): { pool: pg.Pool; preparing: PostgresPool } {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? 20,
    // While PostgreSQL is down, requests fail fast (SERVICE_UNAVAILABLE) instead of queueing without end.
    connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    Client: UtcClient,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        TYPE_PARSERS[oid] ?? pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  const availability = new DatabaseAvailability(report);
  // An idle client that loses its connection (server restart) must not crash the process; the
  // pool discards it by itself.
  pool.on('error', (error) => {
    markFromDatabase(error);
    availability.failed(error);
  });
  return { pool, preparing: preparingPool(pool, availability, options.preparedStatements ?? true) };
}

/**
 * One connection for the replicas' lag checks. A check that gets no answer (a host gone silent)
 * gives up after the connect timeout, client-side, so that the next round can run and say so.
 */
function probePool(url: string, options: ConnectOptions): pg.Pool {
  const timeout = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: timeout, query_timeout: timeout });
}

/** host:port/database of a URL: how logs and /readyz name a replica, without its credentials. */
export function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
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
    const { pool, preparing } = openPool(options.databaseUrl, options, options.availability ?? CONSOLE_AVAILABILITY_REPORT);
    // One wrapper for both instances: prepared statement names are per connection, so they must
    // come from one map. Only `db` is destroyed: it ends the pool they share.
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing }), log });
    const background = new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparing }), log: logBackground });
    const pools = () => [{ name: 'primary', total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }];
    const counts = { statementCount: () => statements, backgroundStatementCount: () => backgroundStatements };
    if (options.readUrls?.length) {
      const members = options.readUrls.map((url) => {
        const name = replicaName(url);
        // Outages are the replica set's to report (it takes the replica out): nothing more to log here.
        const { preparing: replicaPool } = openPool(url, options, { down: () => {}, up: () => {} });
        const probe = probePool(url, options);
        probe.on('error', () => {}); // an idle probe connection that dies is discarded; the next check says so
        return { name, pool: replicaPool, probe };
      });
      const primaryProbe = probePool(options.databaseUrl, options);
      primaryProbe.on('error', () => {});
      const replicas = new ReadReplicas(members, { pool: preparing, probe: primaryProbe }, {
        maxLagMs: options.replication?.maxLagMs ?? DEFAULT_REPLICA_MAX_LAG_MS,
        checkIntervalMs: options.replication?.checkIntervalMs ?? DEFAULT_REPLICA_CHECK_INTERVAL_MS,
        onChange: options.replication?.onChange,
      });
      await replicas.start();
      // Its statements count as the requests' (they are), through the same `log`.
      const read = new Kysely<Database>({ dialect: new PostgresDialect({ pool: replicas.pool }), log });
      const close = async () => {
        await replicas.close();
        await primaryProbe.end();
        await db.destroy();
      };
      return { db, background, read, replicas, backend: 'postgres', ...counts, pools, close };
    }
    return { db, background, read: db, replicas: null, backend: 'postgres', ...counts, pools, close: () => db.destroy() };
  }

  const { PGlite } = await import('@electric-sql/pglite');
  const { btree_gist } = await import('@electric-sql/pglite/contrib/btree_gist');
  const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
  const { unaccent } = await import('@electric-sql/pglite/contrib/unaccent');
  const dataDir = options.dataDir ?? 'memory://';
  if (!dataDir.includes('://')) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir, { extensions: { btree_gist, pg_trgm, unaccent }, parsers: TYPE_PARSERS, ...(options.pgliteDump ? { loadDataDir: options.pgliteDump } : {}) });
  await client.exec(`SET TIME ZONE 'UTC'`);
  // Both instances take turns on the one session (the dialect's lock is per client).
  const db = new Kysely<Database>({ dialect: new PGliteDialect(client), log });
  const background = new Kysely<Database>({ dialect: new PGliteDialect(client), log: logBackground });
  return {
    db,
    background,
    read: db,
    replicas: null,
    backend: 'pglite',
    statementCount: () => statements,
    backgroundStatementCount: () => backgroundStatements,
    pools: () => [],
    dumpDataDir: () => client.dumpDataDir('none'),
    close: () => db.destroy(),
  };
}
