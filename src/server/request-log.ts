import type { ApolloServerPlugin } from '@apollo/server';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs } from 'kysely';
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
  /** HTTP status of the answer. */
  status: number;
  /** The distinct `extensions.code`s of the answer's top-level errors; absent when there were none. */
  errors?: string[];
}

/**
 * Counts the statements of one request: the composition root (app.ts) gives each request's context
 * `db.withPlugin(tally)`, so that its loaders, actions and transactions all run through it. A
 * counter per request, not a timer or a span: one increment per statement.
 */
export class StatementTally implements KyselyPlugin {
  count = 0;
  transformQuery(args: PluginTransformQueryArgs) {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs) {
    this.count++;
    return args.result;
  }
}

/**
 * Each request's tally, for its log line, by the request's own services object (Apollo hands the
 * plugins a shallow copy of the context, which keeps it); a WeakMap, so the context type stays as it is.
 */
const tallies = new WeakMap<object, StatementTally>();

export function tallyStatementsOf(context: RequestContext, tally: StatementTally): void {
  tallies.set(context.app, tally);
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
            statements: contextValue?.app ? tallies.get(contextValue.app)?.count : undefined,
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
