import { GraphQLError, Kind, type DocumentNode, type ExecutionResult } from 'graphql';
import { ErrorCode } from '../shared/errors.js';

/**
 * Client mistakes that graphql-jit, graphql-js or Apollo report without a code, given the code
 * Apollo uses for them over HTTP, so that the error formatter shows them instead of masking them as
 * INTERNAL_SERVER_ERROR (and logging a client's typo as an incident).
 */

/** Apollo's codes for malformed requests; ours are in ErrorCode. */
export const RequestErrorCode = {
  ParseFailed: 'GRAPHQL_PARSE_FAILED',
  ValidationFailed: 'GRAPHQL_VALIDATION_FAILED',
  BadRequest: 'BAD_REQUEST',
  OperationResolutionFailure: 'OPERATION_RESOLUTION_FAILURE',
  PersistedQueryNotFound: 'PERSISTED_QUERY_NOT_FOUND',
  PersistedQueryNotSupported: 'PERSISTED_QUERY_NOT_SUPPORTED',
} as const;

/**
 * Variable coercion errors (a missing required variable, a null for a non-null, a string for an
 * Int, an unknown enum value, an input object missing a field): graphql's own message, which names
 * the variable, with BAD_USER_INPUT. A custom scalar's error (DateTime...) keeps its own code.
 * `requestId` goes along so that the formatter can put it in the response and the log.
 */
export function variableCoercionError(error: GraphQLError, requestId: string | undefined): GraphQLError {
  const code = error.extensions?.code;
  return new GraphQLError(withPeriod(error.message), {
    source: error.source,
    positions: error.positions ?? undefined,
    extensions: { ...error.extensions, code: typeof code === 'string' ? code : ErrorCode.BadUserInput, ...(requestId ? { requestId } : {}) },
  });
}

/** graphql-jit builds its errors without `source`/`positions`; give them their locations back. */
export function withLocations<T extends GraphQLError>(restored: T, from: GraphQLError): T {
  if (from.locations && !restored.locations) Object.assign(restored, { locations: from.locations });
  return restored;
}

/** Why a document has no operation to run under `operationName`, with graphql-js's wording. */
export function operationResolutionError(document: DocumentNode, operationName: string | null | undefined, requestId: string | undefined): GraphQLError {
  const names = document.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.name?.value ?? null] : []));
  let message: string;
  if (operationName) message = `Unknown operation named "${operationName}"; the document has ${names.filter(Boolean).map((n) => `"${n}"`).join(', ') || 'no named operation'}.`;
  else if (names.length > 1) message = 'Must provide operation name if query contains multiple operations.';
  else message = 'Must provide an operation.';
  return new GraphQLError(message, { extensions: { code: RequestErrorCode.OperationResolutionFailure, ...(requestId ? { requestId } : {}) } });
}

/**
 * graphql-js's execution result when it refused the variables (a subscription over WebSocket):
 * the errors Apollo would give BAD_USER_INPUT over HTTP (one variable definition as their node, no
 * code of their own) get it here too.
 */
export function variableErrorsWithCode(result: ExecutionResult): ExecutionResult {
  if (!result.errors || result.data !== undefined) return result;
  return {
    ...result,
    errors: result.errors.map((error) =>
      error.nodes?.length === 1 && error.nodes[0].kind === Kind.VARIABLE_DEFINITION && error.extensions?.code === undefined
        ? new GraphQLError(withPeriod(error.message), { nodes: error.nodes, originalError: error.originalError ?? undefined, extensions: { ...error.extensions, code: ErrorCode.BadUserInput } })
        : error,
    ),
  };
}

function withPeriod(message: string): string {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}

/**
 * Errors Apollo raises itself about a request, without a code (it gives them only an HTTP status
 * of 400): the persisted-query protocol's. Returns the code and the message a client should see,
 * or null for any other error.
 */
export function apolloRequestError(error: unknown): { code: string; message: string } | null {
  if (!(error instanceof GraphQLError) || error.originalError || error.extensions?.code !== undefined) return null;
  switch (error.message) {
    case 'Unsupported persisted query version':
      return { code: RequestErrorCode.PersistedQueryNotSupported, message: 'Expected `extensions.persistedQuery.version` 1, the only persisted query version this server supports.' };
    case 'provided sha does not match query':
      return { code: RequestErrorCode.BadRequest, message: 'Expected `extensions.persistedQuery.sha256Hash` to be the SHA-256 of `query` (hex); it is not.' };
    default:
      return null;
  }
}
