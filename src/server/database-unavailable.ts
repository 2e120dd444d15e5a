import type { ServerResponse } from 'node:http';
import { HeaderMap } from '@apollo/server';
import { GraphQLError, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import { connectionErrorCode, isDatabaseUnavailable, type AvailabilityReport } from '../db/connection-errors.js';
import { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/**
 * What a client sees of work that failed because PostgreSQL could not be reached: a retriable
 * SERVICE_UNAVAILABLE instead of a masked INTERNAL_SERVER_ERROR, and, when nothing of the operation
 * succeeded, HTTP 503 with Retry-After. The outage itself is logged once (databaseAvailabilityLog),
 * not once per failed request.
 */

/** A restart of PostgreSQL takes a second or two here; clients that honour Retry-After come back after it. */
export const RETRY_AFTER_SECONDS = 2;
export const DATABASE_UNAVAILABLE_MESSAGE = 'The database is unavailable; retry shortly.';

/** The formatted error for a failure `isDatabaseUnavailable` recognised, or null for any other. Called by the error formatter. */
export function formatDatabaseUnavailable(formatted: GraphQLFormattedError, cause: unknown): GraphQLFormattedError | null {
  if (!isDatabaseUnavailable(cause)) return null;
  return {
    message: DATABASE_UNAVAILABLE_MESSAGE,
    path: formatted.path,
    locations: formatted.locations,
    extensions: { code: ErrorCode.ServiceUnavailable, retryAfterSeconds: RETRY_AFTER_SECONDS },
  };
}

/**
 * When every error of a result is the database's unavailability and no root field has a value,
 * the whole operation failed for that reason: the errors carry HTTP 503 and Retry-After, which
 * Apollo applies to the response (extensions.http). A partial result keeps its 200.
 */
export function withUnavailableStatus(result: ExecutionResult, errors: readonly GraphQLError[]): readonly GraphQLError[] {
  if (!errors.length || !errors.every((e) => isDatabaseUnavailable(e.originalError))) return errors;
  const data = result.data as Record<string, unknown> | null | undefined;
  if (data && Object.values(data).some((value) => value !== null)) return errors;
  const http = { status: 503, headers: new HeaderMap([['retry-after', String(RETRY_AFTER_SECONDS)]]) };
  return errors.map((e) =>
    Object.assign(new GraphQLError(e.message, { path: e.path, originalError: e.originalError, extensions: { ...e.extensions, http } }), { locations: e.locations }),
  );
}

/** Answers a plain HTTP route's failure (a payment webhook) with 503 and Retry-After when the database is unavailable; false for any other failure. */
export function sendDatabaseUnavailable(res: ServerResponse, error: unknown): boolean {
  if (!isDatabaseUnavailable(error)) return false;
  if (!res.headersSent) res.writeHead(503, { 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_SECONDS) });
  res.end(JSON.stringify({ errors: [{ message: DATABASE_UNAVAILABLE_MESSAGE, extensions: { code: ErrorCode.ServiceUnavailable } }] }));
  return true;
}

/** Logs each outage of the database twice: when it starts (warn, no stack) and when it ends. */
export function databaseAvailabilityLog(log: Logger): AvailabilityReport {
  const warn = (log.warn ?? log.info).bind(log);
  return {
    down: (error) =>
      warn('The database is unreachable; requests get SERVICE_UNAVAILABLE and background work retries until it is back', {
        code: connectionErrorCode(error),
        error: error.message,
      }),
    up: ({ downMs, failures }) => log.info('The database is reachable again', { downMs, failures }),
  };
}
