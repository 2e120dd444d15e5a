import { ErrorCode } from '../shared/errors.js';
import { RequestErrorCode } from './request-errors.js';

/**
 * Request errors of a well-formed GraphQL-over-HTTP request: the document does not parse or
 * validate, the variables do not coerce, the operation cannot be picked. Apollo answers them with
 * 400 whatever the media type; the GraphQL-over-HTTP spec says a server SHOULD answer them with 200
 * under `application/json` (what legacy clients expect: the errors are in the body) and with 4xx
 * under `application/graphql-response+json`. A body that is not a GraphQL request at all (not JSON,
 * no query, a batch) stays 400 under both.
 */
const REQUEST_ERROR_CODES = new Set<unknown>([
  RequestErrorCode.ParseFailed,
  RequestErrorCode.ValidationFailed,
  RequestErrorCode.OperationResolutionFailure,
  ErrorCode.BadUserInput,
]);

interface ErrorBody {
  errors?: Array<{ extensions?: Record<string, unknown> }>;
}

/**
 * Finishes a GraphQL response whose body starts with `{"errors":` (Apollo writes `errors` first,
 * so only error responses pay for this): every error gets `extensions.requestId`, and request
 * errors under `application/json` get 200. Returns the body unchanged if it is not what it looked like.
 */
export function finishErrorResponse(status: number, contentType: string, body: string, requestId: string): { status: number; body: string } {
  let parsed: ErrorBody;
  try {
    parsed = JSON.parse(body) as ErrorBody;
  } catch {
    return { status, body };
  }
  if (!Array.isArray(parsed.errors)) return { status, body };
  let requestErrorsOnly = parsed.errors.length > 0 && !('data' in parsed);
  for (const error of parsed.errors) {
    error.extensions = { ...error.extensions, requestId: error.extensions?.requestId ?? requestId };
    if (!REQUEST_ERROR_CODES.has(error.extensions.code)) requestErrorsOnly = false;
  }
  const legacyJson = contentType.startsWith('application/json');
  return { status: status === 400 && legacyJson && requestErrorsOnly ? 200 : status, body: JSON.stringify(parsed) + '\n' };
}

/** A JSON error body of our own (before Apollo sees the request: too large, not JSON). */
export function errorBody(message: string, code: string, requestId: string | undefined): string {
  return JSON.stringify({ errors: [{ message, extensions: requestId ? { code, requestId } : { code } }] });
}
