import { AsyncLocalStorage } from 'node:async_hooks';
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';

/**
 * What one HTTP request has cost so far, for its metrics and its trace: the statements it sent and
 * the DataLoader batches it ran. It travels with the request's context (server/context.ts): the
 * request's database handle counts into it (RequestStatementCounter) and its loader registry tells
 * it each batch, so nothing is looked up per field or per promise.
 */
export interface RequestTelemetry {
  /** Statements the request's database handle ran (those of background work are not the request's). */
  statements: number;
  /** Reads of the shared cache (availability) the request made that found their answer, and that did not. */
  cacheHits: number;
  cacheMisses: number;
  /** Told each DataLoader batch: the loader's name without its arguments, and the number of keys. */
  loaderBatch(loader: string, keys: number): void;
  /** Set only while tracing (server/tracing.ts): the request's spans. */
  trace?: StatementTrace;
}

export interface StatementTrace {
  /** Told each statement after it ran: its text and how long it took. */
  statement(sql: string, durationMs: number): void;
}

/**
 * Counts the statements a request's Kysely instance (`db.withPlugin(...)`) ran, once each when its
 * result arrives (a subquery's builder is transformed too, so counting transforms would count it twice).
 */
export class RequestStatementCounter implements KyselyPlugin {
  constructor(private readonly telemetry: RequestTelemetry) {}

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.telemetry.statements++;
    return args.result;
  }
}

/**
 * Only while tracing: SQL spans are made where Kysely reports a statement (db/connect.ts), which
 * knows no request, so the request's telemetry is found through the async context there. Without
 * tracing nothing ever runs in this storage, and Node never turns on the promise hooks it needs
 * (measured: they cost a fifth of the nested page's CPU time).
 */
const tracedRequests = new AsyncLocalStorage<RequestTelemetry>();

/** The traced request this code runs for, or undefined (tracing off, or outside a request). */
export function currentTracedRequest(): RequestTelemetry | undefined {
  return tracedRequests.getStore();
}

export function runTracedRequest<T>(telemetry: RequestTelemetry, work: () => T): T {
  return tracedRequests.run(telemetry, work);
}

/** The `/* tag *\/` a statement starts with (repositories name their statements so), or undefined. */
export function statementTagOf(sql: string): string | undefined {
  const match = /^\s*\/\*\s*([\w.:-]+)\s*\*\//.exec(sql);
  return match?.[1];
}
