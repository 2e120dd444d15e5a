/**
 * Where the server's messages go. Infrastructure of its own, so that a domain that logs (a job, a
 * dispatcher) depends on this and not on the HTTP server's context.
 */
export interface Logger {
  info(message: string, context?: Record<string, unknown>): void;
  /** Something degraded that fixes itself (the database is down); loggers without it use `info`. */
  warn?(message: string, context?: Record<string, unknown>): void;
  error(message: string, context?: Record<string, unknown>): void;
}
