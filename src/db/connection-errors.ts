/**
 * Which failures mean "the database cannot be reached right now" rather than "this statement is
 * wrong": the connection broke (PostgreSQL restarted, a network reset), it could not be opened, or
 * the server refused new sessions. Work that failed for such a reason may simply be sent again once
 * the database is back (an idempotent mutation with its key), so clients get SERVICE_UNAVAILABLE
 * instead of INTERNAL_SERVER_ERROR.
 */

/** SQLSTATEs of a server that is going away or not taking sessions; class 08 (connection exception) is matched as a class. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01', // admin_shutdown: the backend was terminated (restart, pg_terminate_backend)
  '57P02', // crash_shutdown: another backend crashed, every session is reset
  '57P03', // cannot_connect_now: the server is starting up or shutting down
  '53300', // too_many_connections
]);

/** Socket errors of a connection that could not be opened or broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/**
 * pg's own messages for a dead connection (pg/lib/client.js) and pg-pool's for a checkout that
 * timed out (pg-pool/index.js). Matched exactly: they carry no code.
 */
const PG_CONNECTION_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Connection terminated',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
]);

/** Set on errors that came out of our PostgreSQL pool (see connect.ts), so that another client's ECONNRESET is not taken for the database's. */
const FROM_DATABASE = Symbol('fromDatabase');

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  [FROM_DATABASE]?: true;
}

function isConnectionClass(error: ErrorLike): boolean {
  const code = typeof error.code === 'string' ? error.code : '';
  if (code.length === 5 && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code))) return true;
  if (SOCKET_CODES.has(code)) return true;
  return typeof error.message === 'string' && PG_CONNECTION_MESSAGES.has(error.message);
}

/** The error, its causes, and the errors of an AggregateError (a connect attempt per address), at most a few levels deep. */
function* chain(error: unknown, depth = 0): Generator<ErrorLike> {
  if (depth > 5 || error === null || typeof error !== 'object') return;
  const e = error as ErrorLike;
  yield e;
  yield* chain(e.cause, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1);
}

/** True for a failure to reach a network peer (any client's): a refused or reset socket, a dead pg connection, SQLSTATE 08xxx, 57P01-57P03, 53300. */
export function isConnectionError(error: unknown): boolean {
  for (const e of chain(error)) if (isConnectionClass(e)) return true;
  return false;
}

/** True for a connection-class failure of the application's PostgreSQL pool: the database is unavailable, retry shortly. */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const e of chain(error)) if (e[FROM_DATABASE] && isConnectionError(e)) return true;
  return false;
}

/** Marks an error as the pool's (connect.ts does, for every failed checkout and statement). */
export function markFromDatabase(error: unknown): void {
  if (error !== null && typeof error === 'object' && !Object.isFrozen(error)) (error as ErrorLike)[FROM_DATABASE] = true;
}

/** The SQLSTATE or socket code of a connection failure, for logs. */
export function connectionErrorCode(error: unknown): string | undefined {
  for (const e of chain(error)) if (typeof e.code === 'string') return e.code;
  return undefined;
}

/** What a database outage looks like to whoever logs it (connect.ts reports, app.ts logs). */
export interface AvailabilityReport {
  /** The first connection failure after a success: the database became unreachable. */
  down(error: Error): void;
  /** The first success after a failure: how long it was down and how many statements and checkouts failed meanwhile. */
  up(outage: { downMs: number; failures: number }): void;
}

/**
 * Turns a stream of failures and successes of the pool into one report per outage. Only a
 * statement on a connection checked out after the outage began ends it: when PostgreSQL goes down,
 * statements already under way may still succeed while their neighbours fail, and would otherwise
 * split one outage into several. The success side runs on every statement: one comparison.
 */
export class DatabaseAvailability {
  private downSince: number | null = null;
  private failures = 0;
  /** Counts outages; a checkout remembers the one current when it began (see `succeeded`). */
  private outages = 0;

  constructor(private readonly report: AvailabilityReport) {}

  get available(): boolean {
    return this.downSince === null;
  }

  /** To pass to `succeeded` for the statements of a checkout that begins now. */
  get epoch(): number {
    return this.outages;
  }

  failed(error: Error): void {
    this.failures++;
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    this.outages++;
    this.report.down(error);
  }

  /** A statement succeeded on a connection checked out at `epoch`. */
  succeeded(epoch: number): void {
    if (this.downSince === null || epoch !== this.outages) return;
    const outage = { downMs: Date.now() - this.downSince, failures: this.failures };
    this.downSince = null;
    this.failures = 0;
    this.report.up(outage);
  }
}
