import { sql } from 'kysely';
import { purgeAuditLogsBefore } from '../audit/audit.repository.js';
import type { RetentionConfig } from '../config.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Db } from '../db/sql-helpers.js';
import { purgeBookingEventsBefore } from '../events/booking-events.repository.js';
import { deleteExpiredIdempotencyKeys } from '../idempotency/idempotency-keys.repository.js';
import { pruneProcessedEvents } from '../payments/processed-payment-events.repository.js';
import { purgeFinishedNotificationJobsBefore } from '../notifications/notification-jobs.repository.js';
import type { AppMetrics } from '../server/metrics.js';
import { BackgroundFailures } from '../shared/background-failures.js';
import type { Logger } from '../shared/logger.js';
import { purgePastUnbookedSlotsBefore } from '../slots/slot-retention.repository.js';
import { purgeFinishedWebhookDeliveriesBefore } from '../webhooks/webhook-deliveries.repository.js';

/**
 * The retention job: keeps the tables that only grow flat by deleting, now and then, what no reader
 * needs any more (README, "Retention"). Each table has a purge statement in its own repository that
 * deletes one bounded batch, oldest first, through an index on the age it tests; every batch is its
 * own statement and so its own short transaction (locks held for one batch, never for a round). A
 * round purges each table until a batch comes back short (nothing older is left) or the table's
 * budget for the round is spent, pausing between batches so that requests keep the database.
 */

const DAY_MS = 86_400_000;
/** pg_try_advisory_xact_lock key: "retentn" in ASCII, beside slot generation's "slotgen". */
const ADVISORY_LOCK_KEY = 0x726574656e746e;

export type RetentionTable = 'webhook_deliveries' | 'booking_events' | 'audit_logs' | 'idempotency_keys' | 'processed_payment_events' | 'partner_slots' | 'notification_jobs';

interface PurgeTarget {
  table: RetentionTable;
  /** Rows older than this go; null: the table keeps its rows for ever (a period of 0). */
  cutoff(now: Date, config: RetentionConfig): Date | null;
  purge(db: Db, cutoff: Date, limit: number): Promise<number>;
}

const daysBefore = (now: Date, days: number) => (days > 0 ? new Date(now.getTime() - days * DAY_MS) : null);

/**
 * In this order: deliveries before events, because an event a delivery points at stays (the
 * delivery's key), so the deliveries that age out first let their events go in the same round.
 */
export const PURGE_TARGETS: readonly PurgeTarget[] = [
  { table: 'webhook_deliveries', cutoff: (now, c) => daysBefore(now, c.webhookDeliveryDays), purge: purgeFinishedWebhookDeliveriesBefore },
  { table: 'booking_events', cutoff: (now, c) => daysBefore(now, c.bookingEventDays), purge: purgeBookingEventsBefore },
  { table: 'audit_logs', cutoff: (now, c) => daysBefore(now, c.auditLogDays), purge: purgeAuditLogsBefore },
  { table: 'idempotency_keys', cutoff: (now, c) => new Date(now.getTime() - c.idempotencyKeyGraceHours * 3_600_000), purge: deleteExpiredIdempotencyKeys },
  { table: 'processed_payment_events', cutoff: (now, c) => daysBefore(now, c.processedPaymentEventDays), purge: pruneProcessedEvents },
  { table: 'partner_slots', cutoff: (now, c) => daysBefore(now, c.unbookedSlotDays), purge: purgePastUnbookedSlotsBefore },
  { table: 'notification_jobs', cutoff: (now, c) => daysBefore(now, c.notificationJobDays), purge: purgeFinishedNotificationJobsBefore },
];

export interface TablePurge {
  table: RetentionTable;
  rows: number;
  batches: number;
  /** The round's budget ran out before the table was done: the next round goes on. */
  more: boolean;
}

export interface RoundSummary {
  tables: TablePurge[];
  rows: number;
  ms: number;
}

/** Rows purged by this process since it started, per table (GET /metrics). */
export class RetentionStats {
  readonly purged = new Map<RetentionTable, number>(PURGE_TARGETS.map((t) => [t.table, 0]));
  rounds = { done: 0, skipped: 0, failed: 0 };
}

export interface RoundOptions {
  /** The pause between batches; tests pass one that does not wait. */
  sleep?: (ms: number) => Promise<void>;
  stats?: RetentionStats;
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One round over every table, ages measured from `now`. */
export async function purgeRound(db: Db, now: Date, config: RetentionConfig, options: RoundOptions = {}): Promise<RoundSummary> {
  const started = performance.now();
  const sleep = options.sleep ?? wait;
  const tables: TablePurge[] = [];
  for (const target of PURGE_TARGETS) {
    const cutoff = target.cutoff(now, config);
    if (!cutoff) continue;
    const done: TablePurge = { table: target.table, rows: 0, batches: 0, more: false };
    for (;;) {
      const limit = Math.min(config.batchSize, config.maxRowsPerRound - done.rows);
      const rows = await target.purge(db, cutoff, limit);
      done.rows += rows;
      done.batches++;
      if (options.stats) options.stats.purged.set(target.table, (options.stats.purged.get(target.table) ?? 0) + rows);
      if (rows < limit) break;
      if (done.rows >= config.maxRowsPerRound) {
        done.more = true;
        break;
      }
      if (config.pauseMs > 0) await sleep(config.pauseMs);
    }
    tables.push(done);
  }
  return { tables, rows: tables.reduce((sum, t) => sum + t.rows, 0), ms: Math.round(performance.now() - started) };
}

/**
 * Runs a round unless another API instance is running one (null then), the way slot generation does
 * (runExclusiveGenerationPass): a transaction-scoped advisory lock, held by an idle transaction of its
 * own for the length of the round, while the batches run on other connections of the pool. Works
 * behind PgBouncer in transaction mode; the idle transaction holds no snapshot, so it keeps no row
 * versions from vacuum. If the lock's connection dies, another instance may start a round beside
 * this one: harmless, since every batch skips the rows another holds (SKIP LOCKED) and a row is
 * deleted once. The embedded database is one process: nobody to exclude.
 */
export async function runExclusiveRetentionRound(
  database: Pick<DatabaseHandle, 'background' | 'backend'>,
  now: Date,
  config: RetentionConfig,
  options: RoundOptions = {},
): Promise<RoundSummary | null> {
  if (database.backend !== 'postgres') return purgeRound(database.background, now, config, options);
  return database.background.transaction().execute(async (trx) => {
    const lock = await sql<{ locked: boolean }>`/* tryLockRetention */ SELECT pg_try_advisory_xact_lock(${ADVISORY_LOCK_KEY}::bigint) AS locked`.execute(trx);
    if (!lock.rows[0].locked) return null;
    return purgeRound(database.background, now, config, options);
  });
}

export interface RetentionJob {
  readonly stats: RetentionStats;
  /** Stops the schedule and waits for a round in progress (it ends after its current batch). */
  stop(): Promise<void>;
}

/** After a failed round (the database was down, say), the next one comes this soon, however long the interval. */
export const RETRY_AFTER_FAILURE_MS = 60_000;

/**
 * Runs a round after `firstRoundAfterMs` and then every `intervalMinutes` (from the end of the
 * previous one, so rounds never pile up). A failed round is logged (once per outage when the
 * database is unreachable: BackgroundFailures) and the next runs within RETRY_AFTER_FAILURE_MS.
 */
export function startRetentionJob(args: {
  database: Pick<DatabaseHandle, 'background' | 'backend'>;
  log: Logger;
  config: RetentionConfig;
  /** The time a round measures ages from; tests pin it. */
  clock?: () => Date;
  firstRoundAfterMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** How soon a failed round is retried (RETRY_AFTER_FAILURE_MS); tests shorten it. */
  retryAfterFailureMs?: number;
}): RetentionJob {
  const clock = args.clock ?? (() => new Date());
  const stats = new RetentionStats();
  const failures = new BackgroundFailures(args.log, 'Retention round failed');
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  // A stop ends a round between two batches rather than after the whole budget.
  const sleep = async (ms: number) => {
    if (stopped) throw new StoppedError();
    await (args.sleep ?? wait)(ms);
    if (stopped) throw new StoppedError();
  };
  const round = async () => {
    let delayMs = args.config.intervalMinutes * 60_000;
    try {
      const summary = await runExclusiveRetentionRound(args.database, clock(), args.config, { sleep, stats });
      failures.succeeded();
      if (summary) {
        stats.rounds.done++;
        args.log.info('Retention round done', {
          ms: summary.ms,
          rows: summary.rows,
          purged: Object.fromEntries(summary.tables.map((t) => [t.table, t.rows])),
          more: summary.tables.filter((t) => t.more).map((t) => t.table),
        });
      } else {
        stats.rounds.skipped++;
        args.log.info('Retention round skipped: another instance is running one');
      }
    } catch (error) {
      if (error instanceof StoppedError) return;
      stats.rounds.failed++;
      failures.failed(error);
      delayMs = Math.min(delayMs, args.retryAfterFailureMs ?? RETRY_AFTER_FAILURE_MS);
    }
    if (!stopped) timer = setTimeout(() => (running = round()), delayMs).unref();
  };
  timer = setTimeout(() => (running = round()), args.firstRoundAfterMs ?? 0).unref();
  return {
    stats,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

class StoppedError extends Error {
  constructor() {
    super('The retention job was stopped.');
  }
}

/** Rows purged per table and rounds by outcome, for GET /metrics. */
export function registerRetentionMetrics(metrics: AppMetrics, stats: RetentionStats): void {
  metrics.counterFrom('retention_rows_purged_total', 'Rows the retention job of this process deleted, by table.', ['table'], () => [...stats.purged].map(([table, rows]) => [{ table }, rows]));
  metrics.counterFrom('retention_rounds_total', 'Retention rounds of this process by outcome (done; skipped: another instance ran one; failed).', ['outcome'], () =>
    Object.entries(stats.rounds).map(([outcome, n]) => [{ outcome }, n]));
}
