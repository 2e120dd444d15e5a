import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';

/** SQLSTATE 57014 (query_canceled): PostgreSQL cancelled the statement at `statement_timeout`. */
const QUERY_CANCELED = '57014';

export function isStatementTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === QUERY_CANCELED;
}

/**
 * The answer for an operation whose statement PostgreSQL cancelled: coded, so that a client knows
 * to ask for less rather than retry blindly. Logged once per cancelled statement: a DataLoader batch
 * that failed rejects every key of it with the same error, and each key is an error of the answer.
 */
export function statementTimeoutFormatter(log: Logger) {
  const logged = new WeakSet<object>();
  return (formatted: GraphQLFormattedError, cause: object): GraphQLFormattedError => {
    if (!logged.has(cause)) {
      logged.add(cause);
      log.error('A statement ran longer than PG_STATEMENT_TIMEOUT_MS and was cancelled', { path: formatted.path, message: (cause as Error).message });
    }
    return {
      message: 'Expected every database statement to finish within the statement timeout (PG_STATEMENT_TIMEOUT_MS), but one ran longer and was cancelled (with the transaction it was part of). Ask for less (smaller pages, fewer nested lists) and try again.',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: ErrorCode.QueryTimeout },
    };
  };
}
