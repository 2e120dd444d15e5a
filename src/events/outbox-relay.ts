import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../shared/logger.js';
import { BackgroundFailures } from '../shared/background-failures.js';
import { CoalescedRuns } from '../shared/coalesced-runs.js';
import type { Trx } from '../shared/transaction.js';
import type { BookingEventModel } from './booking-event.model.js';
import {
  findUnpublishedPositions,
  lockRelayCounter,
  markEventsPublished,
  positionNextEvents,
} from './booking-events.repository.js';
import type { EventBus } from './event-bus.js';

/** Runs in the relay's transaction with the events it just positioned (webhook deliveries are created here). */
export type PositionedHook = (trx: Trx, events: BookingEventModel[]) => Promise<void>;

export interface RelayOptions {
  db: Db;
  bus: EventBus;
  log: Logger;
  /** Also run this often, for events no kick announced (another process died before relaying them). */
  intervalMs: number;
  /** Positioned events still unpublished after this long are published again. */
  republishAfterMs: number;
  batchSize?: number;
  onPositioned?: PositionedHook[];
}

/**
 * The outbox relay. A run, in one transaction: lock the counter row (one run at a time across all
 * processes), give the committed events without a position the next positions, run the hooks
 * (webhook deliveries), commit. Then publish them and mark them published. Events positioned but
 * left unpublished (the process died after the commit, or Redis was down) are published again by a
 * later run, here or in another process: delivery is at least once, subscribers deduplicate by
 * position.
 *
 * Every process runs a relay: kicked after each local commit (low latency), and on a timer (events
 * whose process died before its kick). Kicks during a run coalesce into one more run.
 */
export class OutboxRelay {
  private readonly batchSize: number;
  private readonly runs: CoalescedRuns;
  /** Set by the timer: the next run also looks for positioned events left unpublished. */
  private staleCheckDue = false;
  /** Runs completed and events published, for tests and /metrics. */
  readonly stats = { runs: 0, published: 0, publishFailures: 0 };

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    const failures = new BackgroundFailures(options.log, 'The outbox relay failed; it will run again');
    this.runs = new CoalescedRuns(
      () => this.relayAll(),
      (error) => failures.failed(error),
      () => failures.succeeded(),
    );
  }

  /** Starts the timer (again, after stop()). */
  start(): void {
    this.runs.every(this.options.intervalMs, () => (this.staleCheckDue = true));
  }

  /** Asks for a run; returns when a run that started after this call has finished. */
  kick(): Promise<void> {
    return this.runs.kick();
  }

  /** Stops the timer and waits for the run in progress: nothing is lost, what is not positioned stays in the outbox. */
  stop(): Promise<void> {
    return this.runs.stop();
  }

  private async relayAll(): Promise<void> {
    let relayed: number;
    do relayed = await this.runOnce();
    while (relayed === this.batchSize && !this.runs.stopped);
    if (this.staleCheckDue) {
      this.staleCheckDue = false;
      await this.republishStale();
    }
  }

  /** One run: positions up to a batch of events, publishes them; returns how many were positioned. */
  private async runOnce(): Promise<number> {
    const { db, onPositioned = [] } = this.options;
    const events = await db.transaction().execute(async (trx) => {
      const last = await lockRelayCounter(trx);
      const positioned = await positionNextEvents(trx, last, this.batchSize);
      if (!positioned.length) return positioned;
      for (const hook of onPositioned) await hook(trx, positioned);
      return positioned;
    });
    this.stats.runs++;
    if (events.length) await this.publish(events.map((e) => e.position));
    return events.length;
  }

  private async republishStale(): Promise<void> {
    const stale = await findUnpublishedPositions(this.options.db, this.options.republishAfterMs, this.batchSize);
    if (stale.length) await this.publish(stale);
  }

  /** Signals the last of `positions` (ascending) and marks them all published. */
  private async publish(positions: string[]): Promise<void> {
    try {
      await this.options.bus.publish(Number(positions[positions.length - 1]));
    } catch (error) {
      this.stats.publishFailures++;
      // Left unpublished in the outbox: a later run publishes them again. Subscribers on other
      // processes read them from the outbox when their Redis connection comes back.
      this.options.log.error('Could not publish booking events; they stay in the outbox for the next run', {
        from: positions[0],
        to: positions[positions.length - 1],
        message: (error as Error).message,
      });
      return;
    }
    this.stats.published += positions.length;
    await markEventsPublished(this.options.db, positions);
  }
}
