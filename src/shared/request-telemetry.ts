import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What one HTTP request has cost so far, for its metrics and its trace: the statements it sent and
 * the DataLoader batches it ran. The database and the loader registry are shared by every request
 * in flight, so they find the request they work for through the async context rather than through
 * an argument: one AsyncLocalStorage entered once per request (server/request-telemetry-http.ts),
 * read only where a statement or a batch happens, never per field.
 */
export interface RequestTelemetry {
  /** Statements the request sent through the request database (not the background one). */
  statements: number;
  /** Told each DataLoader batch: the loader's name without its arguments, and the number of keys. */
  loaderBatch(loader: string, keys: number): void;
  /** Set only while tracing (server/tracing.ts): the request's spans. */
  trace?: StatementTrace;
}

export interface StatementTrace {
  /** Told each statement after it ran: its text and how long it took. */
  statement(sql: string, durationMs: number): void;
}

const storage = new AsyncLocalStorage<RequestTelemetry>();

/** The request this code runs for, or undefined outside one (jobs, relay, subscriptions, tests' direct calls). */
export function currentRequestTelemetry(): RequestTelemetry | undefined {
  return storage.getStore();
}

export function runWithRequestTelemetry<T>(telemetry: RequestTelemetry, work: () => T): T {
  return storage.run(telemetry, work);
}

/** The `/* tag *\/` a statement starts with (repositories name their statements so), or undefined. */
export function statementTagOf(sql: string): string | undefined {
  const match = /^\s*\/\*\s*([\w.:-]+)\s*\*\//.exec(sql);
  return match?.[1];
}
