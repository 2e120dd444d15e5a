import { sql } from 'kysely';
import { groupBy, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { ScheduleExceptionModel, WeeklyHoursModel } from './schedule.model.js';
import type { DateOverride, WeeklyRule } from './slot-generator.js';

/**
 * Weekly hours and exceptions. Times are `time` columns, read as `HH:MM` for the API (`to_char`
 * writes 24:00 as such) and as minutes after midnight for the generator.
 */

const WEEKLY_HOURS_COLUMNS = sql.raw(
  `wh.partner_id AS "partnerId",
   (ARRAY['MONDAY','TUESDAY','WEDNESDAY','THURSDAY','FRIDAY','SATURDAY','SUNDAY'])[wh.day_of_week] AS "dayOfWeek",
   to_char(wh.start_time, 'HH24:MI') AS "startTime", to_char(wh.end_time, 'HH24:MI') AS "endTime",
   wh.effective_from AS "effectiveFrom", wh.effective_to AS "effectiveTo"`,
);

const EXCEPTION_COLUMNS = sql.raw(
  `ex.partner_id AS "partnerId", ex.exception_date AS "date", ex.closed,
   to_char(ex.start_time, 'HH24:MI') AS "startTime", to_char(ex.end_time, 'HH24:MI') AS "endTime"`,
);

/**
 * The weekly hours in force today or later (today in the business's time zone), by day, start
 * time and first date. Hours that ended before today are history: kept, not listed.
 */
export async function findWeeklyHoursByPartnerIds(db: Db, partnerIds: readonly string[]): Promise<Map<string, WeeklyHoursModel[]>> {
  const rows = await query<WeeklyHoursModel>(db, 'findWeeklyHoursByPartnerIds', sql`
    SELECT ${WEEKLY_HOURS_COLUMNS} FROM partner_weekly_hours wh
    JOIN businesses b ON b.id = wh.business_id
    WHERE wh.partner_id = ANY(${partnerIds}::bigint[])
      AND (wh.effective_to IS NULL OR wh.effective_to >= (now() AT TIME ZONE b.time_zone)::date)
    ORDER BY wh.partner_id, wh.day_of_week, wh.start_time, wh.effective_from`);
  return groupBy(rows, (row) => row.partnerId);
}

export interface DateRangeArgs {
  from: string;
  to: string;
}

export async function findExceptionsByPartnerIds(db: Db, partnerIds: readonly string[], args: DateRangeArgs): Promise<Map<string, ScheduleExceptionModel[]>> {
  const rows = await query<ScheduleExceptionModel>(db, 'findExceptionsByPartnerIds', sql`
    SELECT ${EXCEPTION_COLUMNS} FROM partner_schedule_exceptions ex
    WHERE ex.partner_id = ANY(${partnerIds}::bigint[])
      AND ex.exception_date BETWEEN ${args.from}::date AND ${args.to}::date
    ORDER BY ex.partner_id, ex.exception_date`);
  return groupBy(rows, (row) => row.partnerId);
}

// ---------------------------------------------------------------------------------------------
// What the generator needs, in minutes after midnight.

/** A partner to generate slots for, with its business's zone and slot length. */
export interface GenerationTarget {
  partnerId: string;
  businessId: string;
  timeZone: string;
  slotMinutes: number;
}

const TARGET_COLUMNS = sql.raw(
  `pa.id AS "partnerId", pa.business_id AS "businessId", b.time_zone AS "timeZone", b.slot_minutes AS "slotMinutes"`,
);

/**
 * Every active partner of a live business who has weekly hours or exceptions: what the periodic job
 * regenerates. Partners without any schedule are left out (nothing to make), which keeps a pass
 * over a large database to the partners that matter.
 */
export function findActiveGenerationTargets(db: Db): Promise<GenerationTarget[]> {
  return query(db, 'findActiveGenerationTargets', sql`
    SELECT ${TARGET_COLUMNS} FROM partners pa JOIN businesses b ON b.id = pa.business_id
    WHERE pa.is_active AND b.deleted_at IS NULL
      AND (EXISTS (SELECT 1 FROM partner_weekly_hours wh WHERE wh.partner_id = pa.id)
        OR EXISTS (SELECT 1 FROM partner_schedule_exceptions ex WHERE ex.partner_id = pa.id))
    ORDER BY pa.business_id, pa.id`);
}

const MINUTES_OF = (column: string) => sql.raw(`(extract(epoch FROM ${column}) / 60)::int`);

/** The weekly rules of the partners that are in force on some date of [from, to]. */
export async function findWeeklyRulesByPartnerIds(db: Db, partnerIds: readonly string[], args: DateRangeArgs): Promise<Map<string, WeeklyRule[]>> {
  const rows = await query<WeeklyRule & { partnerId: string }>(db, 'findWeeklyRulesByPartnerIds', sql`
    SELECT wh.partner_id AS "partnerId", wh.day_of_week AS "dayOfWeek",
      ${MINUTES_OF('wh.start_time')} AS "startMinute", ${MINUTES_OF('wh.end_time')} AS "endMinute",
      wh.effective_from AS "effectiveFrom", wh.effective_to AS "effectiveTo"
    FROM partner_weekly_hours wh
    WHERE wh.partner_id = ANY(${partnerIds}::bigint[])
      AND wh.effective_from <= ${args.to}::date AND (wh.effective_to IS NULL OR wh.effective_to >= ${args.from}::date)`);
  return groupBy(rows, (row) => row.partnerId);
}

export async function findDateOverridesByPartnerIds(db: Db, partnerIds: readonly string[], args: DateRangeArgs): Promise<Map<string, DateOverride[]>> {
  const rows = await query<DateOverride & { partnerId: string }>(db, 'findDateOverridesByPartnerIds', sql`
    SELECT ex.partner_id AS "partnerId", ex.exception_date AS "date", ex.closed,
      ${MINUTES_OF('ex.start_time')} AS "startMinute", ${MINUTES_OF('ex.end_time')} AS "endMinute"
    FROM partner_schedule_exceptions ex
    WHERE ex.partner_id = ANY(${partnerIds}::bigint[]) AND ex.exception_date BETWEEN ${args.from}::date AND ${args.to}::date`);
  return groupBy(rows, (row) => row.partnerId);
}

// ---------------------------------------------------------------------------------------------
// Writes: each runs inside the action's transaction, with the partner locked.

export interface WeeklyHoursRow {
  dayOfWeek: number;
  startTime: string;
  endTime: string;
  effectiveFrom: string;
  effectiveTo: string | null;
}

/**
 * Removes the partner's weekly hours that touch [from, to] (to null: no end) and returns them;
 * `insertWeeklyHours` then puts back the parts outside the range. Two statements, in this order,
 * because the no-overlap constraint is checked row by row.
 */
export async function deleteWeeklyHoursInRange(trx: Trx, partnerId: string, from: string, to: string | null): Promise<WeeklyHoursRow[]> {
  const result = await sql<WeeklyHoursRow>`/* deleteWeeklyHoursInRange */
    DELETE FROM partner_weekly_hours wh
    WHERE wh.partner_id = ${partnerId}::bigint
      AND (wh.effective_to IS NULL OR wh.effective_to >= ${from}::date)
      ${to !== null ? sql`AND wh.effective_from <= ${to}::date` : sql``}
    RETURNING wh.day_of_week AS "dayOfWeek", to_char(wh.start_time, 'HH24:MI') AS "startTime",
      to_char(wh.end_time, 'HH24:MI') AS "endTime", wh.effective_from AS "effectiveFrom", wh.effective_to AS "effectiveTo"`.execute(trx);
  return result.rows;
}

export async function insertWeeklyHours(trx: Trx, businessId: string, partnerId: string, rows: readonly WeeklyHoursRow[]): Promise<void> {
  if (!rows.length) return;
  await sql`/* insertWeeklyHours */
    INSERT INTO partner_weekly_hours (business_id, partner_id, day_of_week, start_time, end_time, effective_from, effective_to)
    SELECT ${businessId}::bigint, ${partnerId}::bigint, d, s, e, f, t
    FROM unnest(${rows.map((r) => r.dayOfWeek)}::smallint[], ${rows.map((r) => r.startTime)}::time[], ${rows.map((r) => r.endTime)}::time[],
                ${rows.map((r) => r.effectiveFrom)}::date[], ${rows.map((r) => r.effectiveTo)}::date[]) AS x(d, s, e, f, t)`.execute(trx);
}

export async function findExceptionForUpdate(trx: Trx, partnerId: string, date: string): Promise<ScheduleExceptionModel | undefined> {
  const result = await sql<ScheduleExceptionModel>`/* findExceptionForUpdate */
    SELECT ${EXCEPTION_COLUMNS} FROM partner_schedule_exceptions ex
    WHERE ex.partner_id = ${partnerId}::bigint AND ex.exception_date = ${date}::date FOR UPDATE`.execute(trx);
  return result.rows[0];
}

export async function upsertException(
  trx: Trx,
  businessId: string,
  exception: { partnerId: string; date: string; closed: boolean; startTime: string | null; endTime: string | null },
): Promise<ScheduleExceptionModel> {
  const result = await sql<ScheduleExceptionModel>`/* upsertException */
    INSERT INTO partner_schedule_exceptions AS ex (business_id, partner_id, exception_date, closed, start_time, end_time)
    VALUES (${businessId}::bigint, ${exception.partnerId}::bigint, ${exception.date}::date, ${exception.closed},
            ${exception.startTime}::time, ${exception.endTime}::time)
    ON CONFLICT (partner_id, exception_date) DO UPDATE
      SET closed = excluded.closed, start_time = excluded.start_time, end_time = excluded.end_time, updated_at = now()
    RETURNING ${EXCEPTION_COLUMNS}`.execute(trx);
  return result.rows[0];
}
