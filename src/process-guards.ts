import { connectionErrorCode, isConnectionError } from './db/connection-errors.js';
import type { Logger } from './shared/logger.js';

/**
 * What the process does with an error nobody handled, instead of Node's default (print and exit):
 *
 * - An unhandled promise rejection is logged with its stack and the process keeps serving. A
 *   rejection is an async operation that failed with nobody waiting for it; no synchronous code was
 *   cut short halfway, so the process's state is as sound as before. It is a bug to fix, not a
 *   reason to drop every request in flight.
 * - An uncaught exception from a network client (a dead PostgreSQL or Redis connection emitting
 *   `error` with no listener, a reset socket) is logged and the process keeps serving: such a client
 *   is discarded and reconnects, and nothing else was interrupted. Every client we create listens
 *   for its errors (connect.ts); this is the net under a listener that was missed.
 * - Any other uncaught exception exits with code 1 after logging it: as Node's documentation says,
 *   the process may be in an unknown state (a synchronous step stopped halfway), and a supervisor
 *   restarts it in a sound one.
 */
export function installProcessGuards(log: Logger, exit: (code: number) => void = (code) => process.exit(code)): void {
  process.on('unhandledRejection', (reason) => {
    const error = reason as Error;
    log.error('A promise was rejected and nobody handled it; the process keeps serving', {
      error: error?.message ?? String(reason),
      code: connectionErrorCode(reason),
      stack: error?.stack,
    });
  });
  process.on('uncaughtException', (error, origin) => {
    if (isConnectionError(error)) {
      (log.warn ?? log.info).call(log, 'A network client failed with nobody listening; it is discarded and the process keeps serving', {
        origin,
        code: connectionErrorCode(error),
        error: error.message,
      });
      return;
    }
    log.error('Uncaught exception; the process exits, its state may be unsafe', { origin, error: error.message, stack: error.stack });
    exit(1);
  });
}
