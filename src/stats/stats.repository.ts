import { sql } from 'kysely';
import { query, type Db } from '../db/sql-helpers.js';
import type { BookingEventModel } from '../events/booking-event.model.js';
import { lockRelayCounter } from '../events/booking-events.repository.js';
import type { Trx } from '../shared/transaction.js';
import type { StatsGranularity, StatsRowModel } from './stats.model.js';

/**
 * The daily rollups behind Business.stats (migration 20261202000200):
 *
 * - `booking_stats_daily`, one row per (business, local day, partner, service): bookings by
 *   status, booked minutes, new and returning customers, lead time, captured and refunded money.
 *   Kept by the outbox relay: each run's events name the keys they touched (the booking's day,
 *   partner and service now, in the event, and before a reschedule), and those rows are recomputed
 *   from the source tables by `booking_stats_daily_refresh`, in the relay's transaction. Payments
 *   feed it through their PAYMENT_STATUS_CHANGED events. A recomputation does not depend on the
 *   order or number of times it runs; the per-business mark in `booking_stats_progress` also skips
 *   events already taken, so a replay does no work at all.
 * - `partner_open_daily`, one row per (business, local day, partner): open slot minutes. Slots
 *   have no events; triggers on partner_slots keep it in the transaction of the change.
 *
 * Both refresh functions live in the migration, so the relay, the rebuild and the migration's
 * backfill share one definition of every number.
 */

/**
 * Applies positioned events to the rollups (an onPositioned hook of the relay, so in its
 * transaction: the rows and the marks commit with the positions, or neither does). Events at or
 * below their business's mark are skipped. One statement.
 */
export async function applyEventsToStats(trx: Trx, events: readonly BookingEventModel[]): Promise<void> {
  if (!events.length) return;
  const previous = events.map((e) => e.data.previous ?? null);
  await sql`/* applyEventsToStats */
    WITH ev AS (
      SELECT x.* FROM unnest(
        ${events.map((e) => e.position)}::bigint[], ${events.map((e) => e.businessId)}::bigint[], ${events.map((e) => e.bookingId)}::bigint[],
        ${events.map((e) => e.data.booking.partnerId)}::bigint[], ${events.map((e) => e.data.booking.startsAt)}::timestamptz[],
        ${previous.map((p) => p?.partnerId ?? null)}::bigint[], ${previous.map((p) => p?.startsAt ?? null)}::timestamptz[]
      ) AS x(position, business_id, booking_id, partner_id, starts_at, previous_partner_id, previous_starts_at)
      LEFT JOIN booking_stats_progress pr ON pr.business_id = x.business_id
      WHERE x.position > COALESCE(pr.last_position, 0)
    ), touched AS (
      SELECT DISTINCT bk.business_id AS b, k.partner_id AS p, bk.service_id AS s, (k.starts_at AT TIME ZONE bz.time_zone)::date AS d
      FROM ev
      JOIN bookings bk ON bk.id = ev.booking_id
      JOIN businesses bz ON bz.id = bk.business_id
      CROSS JOIN LATERAL (VALUES (bk.partner_id, bk.starts_at), (ev.partner_id, ev.starts_at), (ev.previous_partner_id, ev.previous_starts_at)) AS k(partner_id, starts_at)
      WHERE k.partner_id IS NOT NULL
    ), refreshed AS (
      SELECT booking_stats_daily_refresh(array_agg(b), array_agg(p), array_agg(s), array_agg(d)) FROM touched
    ), marked AS (
      INSERT INTO booking_stats_progress (business_id, last_position)
      SELECT business_id, max(position) FROM ev GROUP BY business_id
      ON CONFLICT (business_id) DO UPDATE SET last_position = GREATEST(booking_stats_progress.last_position, EXCLUDED.last_position)
      RETURNING business_id
    )
    SELECT (SELECT count(*) FROM refreshed) AS refreshed, (SELECT count(*) FROM marked) AS marked`.execute(trx);
}

/** What a rebuild did. */
export interface StatsRebuildResult {
  bookingRows: number;
  openRows: number;
  /** The relay position every rebuilt business's mark was set to. */
  position: number;
}

/**
 * Recomputes the rollups of one business (or of all) from bookings, payments and slots, in one
 * transaction that holds the relay's counter lock: no relay run applies events meanwhile, and the
 * marks are set to the last position handed out, every event up to which the source tables
 * already show. Events positioned later are applied by the relay as usual.
 */
export async function rebuildStats(db: Db, businessId: string | null = null): Promise<StatsRebuildResult> {
  return db.transaction().execute(async (trx) => {
    const position = await lockRelayCounter(trx);
    // The relay's lock statement bounds idle time in its transaction; a rebuild is busy throughout.
    const only = (column: string) => (businessId === null ? sql`TRUE` : sql`${sql.ref(column)} = ${businessId}::bigint`);
    await sql`/* rebuildStats */ DELETE FROM booking_stats_daily WHERE ${only('business_id')}`.execute(trx);
    await sql`/* rebuildStats */ DELETE FROM partner_open_daily WHERE ${only('business_id')}`.execute(trx);
    await sql`/* rebuildStats */
      SELECT booking_stats_daily_refresh(array_agg(k.business_id), array_agg(k.partner_id), array_agg(k.service_id), array_agg(k.day)) FROM (
        SELECT DISTINCT bk.business_id, bk.partner_id, bk.service_id, (bk.starts_at AT TIME ZONE bz.time_zone)::date AS day
        FROM bookings bk JOIN businesses bz ON bz.id = bk.business_id
        WHERE bk.deleted_at IS NULL AND ${only('bk.business_id')}) k`.execute(trx);
    await sql`/* rebuildStats */
      SELECT partner_open_daily_refresh(array_agg(k.business_id), array_agg(k.partner_id), array_agg(k.day)) FROM (
        SELECT DISTINCT sl.business_id, sl.partner_id, (sl.slot_start AT TIME ZONE bz.time_zone)::date AS day
        FROM partner_slots sl JOIN businesses bz ON bz.id = sl.business_id
        WHERE ${only('sl.business_id')}) k`.execute(trx);
    await sql`/* rebuildStats */
      INSERT INTO booking_stats_progress (business_id, last_position)
      SELECT bz.id, ${position}::bigint FROM businesses bz WHERE ${only('bz.id')}
      ON CONFLICT (business_id) DO UPDATE SET last_position = EXCLUDED.last_position`.execute(trx);
    const counts = await query<{ bookingRows: string; openRows: string }>(trx, 'rebuildStats', sql`
      SELECT (SELECT count(*) FROM booking_stats_daily WHERE ${only('business_id')}) AS "bookingRows",
             (SELECT count(*) FROM partner_open_daily WHERE ${only('business_id')}) AS "openRows"`);
    return { bookingRows: Number(counts[0].bookingRows), openRows: Number(counts[0].openRows), position };
  });
}

export interface StatsRangeArgs {
  from: string;
  to: string;
  granularity: StatsGranularity;
  partnerId: string | null;
  serviceId: string | null;
}

const TRUNC_UNIT: Record<StatsGranularity, string> = { DAY: 'day', WEEK: 'week', MONTH: 'month' };

/**
 * The businesses' rollups between two local dates (inclusive), summed per bucket (the bucket's
 * first day: Monday for WEEK, the 1st for MONTH; not clipped): one statement, each side a range
 * read of its table's primary key. Open time has no service, so a service filter leaves it whole.
 */
export function findStatsRows(db: Db, businessIds: readonly string[], args: StatsRangeArgs): Promise<StatsRowModel[]> {
  const unit = sql.lit(TRUNC_UNIT[args.granularity]);
  const partner = (alias: string) => (args.partnerId === null ? sql`` : sql`AND ${sql.ref(`${alias}.partner_id`)} = ${args.partnerId}::bigint`);
  const service = args.serviceId === null ? sql`` : sql`AND r.service_id = ${args.serviceId}::bigint`;
  return query<StatsRowModel>(db, 'findStatsRows', sql`
    SELECT u.business_id::text AS "businessId", to_char(date_trunc(${unit}, u.day::timestamp), 'YYYY-MM-DD') AS "bucket",
      sum(u.bookings)::int AS "bookings", sum(u.pending)::int AS "pending", sum(u.confirmed)::int AS "confirmed",
      sum(u.cancelled)::int AS "cancelled", sum(u.completed)::int AS "completed", sum(u.no_show)::int AS "noShow",
      sum(u.booked_minutes)::int AS "bookedMinutes", sum(u.open_minutes)::int AS "openMinutes",
      sum(u.new_customers)::int AS "newCustomers", sum(u.returning_bookings)::int AS "returningBookings",
      sum(u.lead_minutes)::float8 AS "leadMinutes", sum(u.captured_cents)::float8 AS "capturedCents", sum(u.refunded_cents)::float8 AS "refundedCents"
    FROM (
      SELECT r.business_id, r.day, r.bookings, r.pending, r.confirmed, r.cancelled, r.completed, r.no_show, r.booked_minutes, 0 AS open_minutes,
        r.new_customers, r.returning_bookings, r.lead_minutes, r.captured_cents, r.refunded_cents
      FROM booking_stats_daily r
      WHERE r.business_id = ANY(${businessIds}::bigint[]) AND r.day >= ${args.from}::date AND r.day <= ${args.to}::date ${partner('r')} ${service}
      UNION ALL
      SELECT o.business_id, o.day, 0, 0, 0, 0, 0, 0, 0, o.open_minutes, 0, 0, 0, 0, 0
      FROM partner_open_daily o
      WHERE o.business_id = ANY(${businessIds}::bigint[]) AND o.day >= ${args.from}::date AND o.day <= ${args.to}::date ${partner('o')}
    ) u
    -- Grouped by the timestamp, formatted after: sorting 30k rows by text cost twice as much.
    GROUP BY u.business_id, date_trunc(${unit}, u.day::timestamp)
    ORDER BY u.business_id, date_trunc(${unit}, u.day::timestamp)`);
}
