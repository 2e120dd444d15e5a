import { sql } from 'kysely';
import { insertAuditLogs } from '../audit/audit.repository.js';
import type { DatabaseHandle } from '../db/connect.js';
import type { Db } from '../db/sql-helpers.js';
import type { Logger } from '../shared/logger.js';
import { BackgroundFailures } from '../shared/background-failures.js';
import type { ChangeFeed } from '../shared/change-feed.js';
import { groupBy } from '../db/sql-helpers.js';
import { findActiveGenerationTargets, type GenerationTarget } from './schedules.repository.js';
import { insertSlotsSkippingConflicts, type InsertedSlots } from './slot-materialization.repository.js';
import { planSlots } from './slot-planning.js';
import { addDays, localToday } from './slot-generator.js';

/**
 * The periodic job: keeps every active partner's slots materialized for a rolling horizon of local
 * dates (today and the next `horizonDays - 1` in the business's zone), so that a new day opens for
 * booking every day and schedule changes reach the slots within an interval. It only inserts:
 * existing slots, whatever their state, are left alone, so running it twice creates nothing more.
 */

export const DEFAULT_HORIZON_DAYS = 60;
const JOB_ACTOR = 'system:slot-generation';
/** Rows per INSERT: one statement's arrays stay a few megabytes even for a large business. */
const INSERT_CHUNK = 20_000;
/** pg_try_advisory_xact_lock key: "slotgen" in ASCII, so that no other lock of ours collides. */
const ADVISORY_LOCK_KEY = 0x736c6f7467656e;

export interface GenerationSummary {
  partners: number;
  slotsCreated: number;
}

/**
 * One pass over every active partner with a schedule: their weekly rules and exceptions in two
 * statements, the slots computed in TypeScript, then one transaction per business that gets new
 * slots (its slots and their audit rows commit together; a failing business does not undo the
 * others). Slots starting before `now` are not made. Each business's change is announced after
 * its commit.
 */
export async function generateRollingHorizon(
  db: Db,
  now: Date,
  options: { horizonDays?: number; changes?: ChangeFeed } = {},
): Promise<GenerationSummary> {
  const horizonDays = options.horizonDays ?? DEFAULT_HORIZON_DAYS;
  const targets = await findActiveGenerationTargets(db);
  // Planned outside the transactions: a schedule changed meanwhile is picked up by the next pass,
  // and inserting what an older schedule called for is harmless (nothing is ever overwritten).
  const planned = await planSlots(db, targets.map((t) => horizonOf(t, now, horizonDays)), now.getTime());
  let slotsCreated = 0;
  for (const [businessId, slots] of groupBy(planned, (s) => s.businessId)) {
    const inserted = await db.transaction().execute(async (trx) => {
      // A large business's chunks of 20,000 slots may take longer than a request's statement timeout.
      await sql`SET LOCAL statement_timeout = 0`.execute(trx);
      const results: InsertedSlots[] = [];
      for (let at = 0; at < slots.length; at += INSERT_CHUNK) results.push(...(await insertSlotsSkippingConflicts(trx, slots.slice(at, at + INSERT_CHUNK))));
      const perPartner = mergeByPartner(results);
      await insertAuditLogs(
        trx,
        perPartner.map((r) => ({
          businessId,
          entity: 'partner' as const,
          entityId: r.partnerId,
          action: 'slots.generated',
          actor: JOB_ACTOR,
          changes: { horizonDays, slotsCreated: r.count, firstStart: r.firstStart, lastEnd: r.lastEnd },
        })),
      );
      return perPartner;
    });
    if (!inserted.length) continue;
    slotsCreated += inserted.reduce((sum, r) => sum + r.count, 0);
    await options.changes?.publish({
      action: 'slots.generated',
      businessId,
      partnerIds: inserted.map((r) => r.partnerId),
      ranges: inserted.map((r) => ({ startsAt: r.firstStart, endsAt: r.lastEnd })),
    });
  }
  return { partners: targets.length, slotsCreated };
}

function horizonOf(target: GenerationTarget, now: Date, horizonDays: number) {
  const from = localToday(now, target.timeZone).toString();
  return { ...target, from, to: addDays(from, horizonDays - 1) };
}

/** Chunks may split one partner's slots: sum their counts and widen their ranges. */
function mergeByPartner(results: readonly InsertedSlots[]): InsertedSlots[] {
  const merged = new Map<string, InsertedSlots>();
  for (const r of results) {
    const seen = merged.get(r.partnerId);
    merged.set(
      r.partnerId,
      seen
        ? { partnerId: r.partnerId, count: seen.count + r.count, firstStart: min(seen.firstStart, r.firstStart), lastEnd: max(seen.lastEnd, r.lastEnd) }
        : r,
    );
  }
  return [...merged.values()];
}

const min = (a: string, b: string) => (Date.parse(a) <= Date.parse(b) ? a : b);
const max = (a: string, b: string) => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * Runs a pass unless another API instance is running one. On PostgreSQL a transaction-scoped
 * advisory lock, held by a transaction of its own (open, idle, for the length of the pass) while the
 * pass uses the pool, says who; the loser skips this round (null). Transaction-scoped rather than a
 * session lock, so that it works behind PgBouncer in transaction mode: there a session lock would be
 * taken on one server connection and "released" on another, and stay held for ever. An idle
 * transaction that only ran this SELECT holds no snapshot and no transaction id: it keeps no row
 * versions from vacuum. The embedded database is one process, so there is nobody to exclude.
 *
 * If the lock's connection dies mid-pass (PostgreSQL restarted), the lock goes with its session and
 * another instance may start a pass beside this one: harmless, since a pass only inserts what is
 * missing and skips conflicts. The commit then fails, the pass counts as failed, and the pool
 * discards that connection (connect.ts).
 */
export async function runExclusiveGenerationPass(
  database: Pick<DatabaseHandle, 'db' | 'backend'>,
  now: Date,
  options: { horizonDays?: number; changes?: ChangeFeed } = {},
): Promise<GenerationSummary | null> {
  if (database.backend !== 'postgres') return generateRollingHorizon(database.db, now, options);
  return database.db.transaction().execute(async (trx) => {
    const lock = await sql<{ locked: boolean }>`/* tryLockSlotGeneration */ SELECT pg_try_advisory_xact_lock(${ADVISORY_LOCK_KEY}::bigint) AS locked`.execute(trx);
    if (!lock.rows[0].locked) return null;
    return generateRollingHorizon(database.db, now, options);
  });
}

export interface SlotGenerationJob {
  /** Stops the schedule and waits for a pass in progress. */
  stop(): Promise<void>;
}

/** After a failed pass (the database was down, say), the next one comes this soon, however long the interval. */
export const RETRY_AFTER_FAILURE_MS = 60_000;

/**
 * Runs a pass now and then every `intervalMinutes` (measured from the end of the previous pass, so
 * passes never pile up). A failed pass is logged (once per outage if the database is unreachable)
 * and the next one runs within RETRY_AFTER_FAILURE_MS: a job that failed at start does not leave
 * the horizon unfilled for a whole interval.
 */
export function startSlotGenerationJob(args: {
  database: Pick<DatabaseHandle, 'db' | 'backend'>;
  changes: ChangeFeed;
  log: Logger;
  intervalMinutes: number;
  horizonDays: number;
  /** The time a pass runs at; tests pin it. */
  clock?: () => Date;
  /**
   * How long the first pass waits (default 0: at once). index.ts leaves the process a few seconds
   * to answer its first requests: a pass plans every partner's horizon in JavaScript, and on the
   * embedded database its inserts hold the one session.
   */
  firstPassAfterMs?: number;
}): SlotGenerationJob {
  const clock = args.clock ?? (() => new Date());
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const failures = new BackgroundFailures(args.log, 'Slot generation pass failed');
  const pass = async () => {
    let delayMs = args.intervalMinutes * 60_000;
    try {
      const summary = await runExclusiveGenerationPass(args.database, clock(), { horizonDays: args.horizonDays, changes: args.changes });
      failures.succeeded();
      if (summary) args.log.info('Slot generation pass done', { ...summary, horizonDays: args.horizonDays });
      else args.log.info('Slot generation pass skipped: another instance is running one');
    } catch (error) {
      failures.failed(error);
      delayMs = Math.min(delayMs, RETRY_AFTER_FAILURE_MS);
    }
    if (!stopped) timer = setTimeout(() => (running = pass()), delayMs).unref();
  };
  if (args.firstPassAfterMs) timer = setTimeout(() => (running = pass()), args.firstPassAfterMs).unref();
  else running = pass();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

