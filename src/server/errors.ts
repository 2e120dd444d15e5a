import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../shared/errors.js';
import { formatDatabaseUnavailable } from './database-unavailable.js';
import type { Logger } from '../shared/logger.js';
import { apolloRequestError } from './request-errors.js';
import { formattedTokenLimitError } from './query-limits.js';
import { isStatementTimeout, statementTimeoutFormatter } from './statement-timeout.js';

/** Codes a client may see: ours, and Apollo's for malformed requests. Anything else is masked. */
const PUBLIC_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/**
 * Unexpected errors (a bug, a database failure) are logged with their context and reach the client
 * as a bare INTERNAL_SERVER_ERROR: no message, no stack, nothing about the schema's internals.
 */
export function createErrorFormatter(log: Logger) {
  const statementTimeout = statementTimeoutFormatter(log);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const requestError = apolloRequestError(error);
    if (requestError) return { message: requestError.message, extensions: { ...formatted.extensions, code: requestError.code } };
    const code = formatted.extensions?.code;
    const requestId = formatted.extensions?.requestId;
    const tooManyTokens = formattedTokenLimitError(formatted);
    if (tooManyTokens) return tooManyTokens;
    const cause = unwrapResolverError(error);
    if (isStatementTimeout(cause)) return statementTimeout(formatted, cause as object);
    const ours = cause instanceof GraphQLError || (error instanceof GraphQLError && !error.originalError);
    if (ours && typeof code === 'string' && PUBLIC_CODES.has(code) && code !== ErrorCode.InternalServerError) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    const unavailable = formatDatabaseUnavailable(formatted, cause);
    if (unavailable) return unavailable;
    log.error('Unexpected error while executing an operation', {
      requestId,
      path: formatted.path,
      message: (cause as Error)?.message ?? formatted.message,
      stack: (cause as Error)?.stack,
    });
    return {
      message: 'Internal server error.',
      path: formatted.path,
      locations: formatted.locations,
      extensions: requestId === undefined ? { code: ErrorCode.InternalServerError } : { code: ErrorCode.InternalServerError, requestId },
    };
  };
}
