import { GraphQLError } from 'graphql';

/**
 * The closed set of `extensions.code` values a client can see in top-level `errors`.
 * Mutation input problems are not here: they are data (`userErrors`), see user-errors.ts.
 */
export const ErrorCode = {
  /** The request needs a valid bearer token. */
  Unauthenticated: 'UNAUTHENTICATED',
  /** The token is valid but its role may not do this. */
  Forbidden: 'FORBIDDEN',
  /** An argument is out of range or malformed (a page size, a cursor, a time range). */
  BadUserInput: 'BAD_USER_INPUT',
  /** An idempotency key was sent again with a different input: nothing was done. */
  IdempotencyKeyReused: 'IDEMPOTENCY_KEY_REUSED',
  /** Another request with the same idempotency key is still running; retry once it has finished. */
  IdempotencyKeyInUse: 'IDEMPOTENCY_KEY_IN_USE',
  /** A WebSocket connection already runs as many subscriptions as it may; complete one first. */
  TooManySubscriptions: 'TOO_MANY_SUBSCRIPTIONS',
  /** A subscriber fell too far behind; the subscription ended. Replay from the last cursor and subscribe again. */
  SubscriberTooSlow: 'SUBSCRIBER_TOO_SLOW',
  /** bookingEventsSince from a cursor older than the retention kept: events after it were purged. `extensions.purgedThrough` is the last purged cursor of the business; resynchronize from the current state, then replay from it. */
  EventsPurged: 'EVENTS_PURGED',
  /** Over a rate limit (HTTP 429): nothing was done; retry after `extensions.retryAfterSeconds` (also the Retry-After header). */
  RateLimited: 'RATE_LIMITED',
  /** The request body is larger than the server reads (HTTP 413); nothing was done. */
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  /** The database could not be reached (a restart, a network failure); nothing was done that a retry would repeat. HTTP 503 with Retry-After when the whole operation failed. */
  ServiceUnavailable: 'SERVICE_UNAVAILABLE',
  /** The operation asks for too much (depth, aliases, directives, fields, tokens or estimated cost): refused before it ran. `extensions` say which limit, its maximum and the measured value. */
  QueryTooComplex: 'QUERY_TOO_COMPLEX',
  /** The answer would be larger than RESPONSE_MAX_BYTES: the operation ran, its answer was withheld. Ask for less. */
  ResponseTooLarge: 'RESPONSE_TOO_LARGE',
  /** A database statement ran longer than PG_STATEMENT_TIMEOUT_MS and was cancelled; a mutation's transaction was rolled back. */
  QueryTimeout: 'QUERY_TIMEOUT',
  /** Anything unexpected; details are logged, never sent. */
  InternalServerError: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BadUserInput, ...(argument ? { argument } : {}) } });
}
export function unauthenticated(message = 'This needs a bearer token: send `Authorization: Bearer <token>`.'): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.Unauthenticated } });
}
export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.Forbidden } });
}
