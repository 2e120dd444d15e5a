import type { ApolloServerPlugin } from '@apollo/server';
import { actorOf } from '../auth/viewer.js';
import type { RequestContext } from './context.js';
import type { Logger } from '../shared/logger.js';

/** What one GraphQL request's line carries (README, "Logs"). */
export interface RequestLogLine {
  requestId: string | undefined;
  operationName: string | null;
  /** query, mutation or subscription; null when the document did not parse or named no operation. */
  operationType: string | null;
  /** `role:subject` of the token's viewer, as in audit rows (`anonymous` without one): never the token itself. */
  viewer: string;
  ms: number;
  /** SHA-256 of the document (Apollo's queryHash): the key to group a slow operation's lines by. */
  documentHash: string | null;
  /** Statements the request ran through its context's database (BEGIN and COMMIT not counted). */
  statements?: number;
  /** Reads of the shared availability cache that found their answer, and that computed it. */
  cacheHits?: number;
  cacheMisses?: number;
  /** HTTP status of the answer. */
  status: number;
  /** The distinct `extensions.code`s of the answer's top-level errors; absent when there were none. */
  errors?: string[];
}

/**
 * One line per GraphQL request over HTTP, written when its answer is ready: `GraphQL operation` at
 * info, or `Slow operation` at warn past `slowOperationMs`. Client mistakes (user errors, parse and
 * validation errors, QUERY_TOO_COMPLEX) are only codes on this line; the error formatter alone logs
 * unexpected errors, at error level with their stack. One hook at the end of the request, nothing
 * per field.
 */
export function requestLogPlugin(log: Logger, options: { slowOperationMs: number }): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, operationName, operation, queryHash, response }) {
          const ms = Math.round(performance.now() - started);
          const line: RequestLogLine = {
            requestId: contextValue?.requestId,
            operationName: operationName ?? null,
            operationType: operation?.operation ?? null,
            viewer: contextValue?.viewer ? actorOf(contextValue.viewer) : 'anonymous',
            ms,
            documentHash: queryHash ?? null,
            // Counted by the request's own database handle (shared/request-telemetry.ts), as its metrics are.
            statements: contextValue?.telemetry?.statements,
            cacheHits: contextValue?.telemetry?.cacheHits,
            cacheMisses: contextValue?.telemetry?.cacheMisses,
            status: response.http.status ?? 200,
          };
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          if (errors?.length) line.errors = [...new Set(errors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))];
          if (ms >= options.slowOperationMs) (log.warn ?? log.info).call(log, 'Slow operation', { ...line });
          else log.info('GraphQL operation', { ...line });
        },
      };
    },
  };
}
