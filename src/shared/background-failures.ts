import { connectionErrorCode, isDatabaseUnavailable } from '../db/connection-errors.js';
import type { Logger } from './logger.js';

/**
 * How a background loop (the outbox relay, the event hub, the webhook dispatcher, the slot
 * generation job) reports its failures: one that comes from the database being unreachable is
 * logged once per streak, as a warning without a stack (the loop retries on its timer; the outage
 * itself is logged by the database layer), and logged again only after a run has succeeded. Any
 * other failure is logged every time, with its stack.
 */
export class BackgroundFailures {
  private quiet = false;

  constructor(
    private readonly log: Logger,
    /** What failed, as a sentence: "The outbox relay failed; it will run again". */
    private readonly what: string,
  ) {}

  failed(error: unknown, context: Record<string, unknown> = {}): void {
    const { message, stack } = error as Error;
    if (!isDatabaseUnavailable(error)) {
      this.log.error(this.what, { ...context, message, stack });
      return;
    }
    if (this.quiet) return;
    this.quiet = true;
    (this.log.warn ?? this.log.info).call(this.log, `${this.what}: the database is unreachable; retrying until it is back`, { ...context, code: connectionErrorCode(error), error: message });
  }

  succeeded(): void {
    this.quiet = false;
  }
}
