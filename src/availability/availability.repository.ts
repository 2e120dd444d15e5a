import { sql } from 'kysely';
import { query, type Db } from '../db/sql-helpers.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { SLOT_IS_FREE } from '../slots/slots.repository.js';

/**
 * The reads behind availableSlots and availablePartners. A local date becomes a UTC range in
 * PostgreSQL (`date::timestamp AT TIME ZONE zone`), with the zone database the server already
 * uses: a day is 23 or 25 hours across a DST change, and nothing in JavaScript has to know.
 */

/** A slot of an active partner near the date, and whether it is free (SLOT_IS_FREE). */
export interface AvailabilitySlotRow {
  partnerId: string;
  startsAt: string;
  endsAt: string;
  free: boolean;
  /** Whether the slot starts on the local date (the others are there for the service's length and buffers). */
  onDate: boolean;
  /** When a live hold on the slot lapses (the slot becomes free then); null when not held. */
  holdLapsesAt: string | null;
  /** The partner's pending and confirmed bookings from now on: the least busy are listed first. */
  partnerLoad: number;
}

/**
 * The slots of a business's active partners who perform the service (or of one of them) that
 * overlap the local date widened by `beforeMinutes` before and `afterMinutes` after, by partner and
 * start time.
 */
export function findSlotsAroundDate(
  db: Db,
  args: { businessId: string; serviceId: string; partnerId: string | null; date: string; timeZone: string; beforeMinutes: number; afterMinutes: number },
): Promise<AvailabilitySlotRow[]> {
  return query(db, 'findSlotsAroundDate', sql`
    WITH day AS (
      SELECT (${args.date}::date)::timestamp AT TIME ZONE ${args.timeZone} AS day_start,
             (${args.date}::date + 1)::timestamp AT TIME ZONE ${args.timeZone} AS day_end
    )
    SELECT sl.partner_id AS "partnerId", sl.slot_start AS "startsAt", sl.slot_end AS "endsAt",
      ${SLOT_IS_FREE} AS free,
      (sl.slot_start >= day.day_start AND sl.slot_start < day.day_end) AS "onDate",
      CASE WHEN sl.status = 'available' AND sl.held_until > now() THEN sl.held_until END AS "holdLapsesAt",
      pa.active_booking_count AS "partnerLoad"
    FROM day CROSS JOIN partners pa
    -- Only partners who perform the service: a primary-key probe per partner.
    JOIN partner_services ps ON ps.partner_id = pa.id AND ps.service_id = ${args.serviceId}::bigint
    JOIN partner_slots sl ON sl.partner_id = pa.id
      AND sl.slot_start < day.day_end + make_interval(mins => ${args.afterMinutes})
      AND sl.slot_end > day.day_start - make_interval(mins => ${args.beforeMinutes})
      -- A lower bound on slot_start too, so the (partner_id, slot_start) index bounds the scan on
      -- both sides: no slot is a day long.
      AND sl.slot_start > day.day_start - make_interval(mins => ${args.beforeMinutes + 1440})
    WHERE pa.business_id = ${args.businessId}::bigint AND pa.is_active
      ${args.partnerId !== null ? sql`AND pa.id = ${args.partnerId}::bigint` : sql``}
    ORDER BY sl.partner_id, sl.slot_start`);
}

/** An active partner with slots on a local date (in their business's zone), and their business's booking settings. */
export interface PartnerDayRow extends PartnerModel {
  timeZone: string;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
  /** The last free slot's start that day; null when none is free. */
  lastFreeStart: string | null;
  /** When the first live hold on the partner's slots that day lapses; null when none is held. */
  holdLapsesAt: string | null;
}

/** Active partners in a city (optionally of one business) with any slot on the local date, least busy first. */
export function findPartnerDaysInCity(db: Db, args: { city: string; businessId: string | null; date: string }): Promise<PartnerDayRow[]> {
  return query(db, 'findPartnerDaysInCity', sql`
    SELECT pa.id, pa.business_id AS "businessId", pa.name, pa.city, pa.is_active AS "isActive",
      pa.active_booking_count AS "activeBookingCount",
      b.time_zone AS "timeZone", b.min_notice_minutes AS "minNoticeMinutes", b.max_advance_days AS "maxAdvanceDays",
      max(sl.slot_start) FILTER (WHERE ${SLOT_IS_FREE}) AS "lastFreeStart",
      min(sl.held_until) FILTER (WHERE sl.status = 'available' AND sl.held_until > now()) AS "holdLapsesAt"
    FROM partners pa
    JOIN businesses b ON b.id = pa.business_id AND b.deleted_at IS NULL
    JOIN partner_slots sl ON sl.partner_id = pa.id
      AND sl.slot_start >= (${args.date}::date)::timestamp AT TIME ZONE b.time_zone
      AND sl.slot_start < (${args.date}::date + 1)::timestamp AT TIME ZONE b.time_zone
      -- Every zone's local date lies within the UTC day before to the day after: constant bounds the
      -- planner can estimate, so it probes each partner's slots instead of scanning them all.
      AND sl.slot_start >= (${args.date}::date - 1)::timestamp AT TIME ZONE 'UTC'
      AND sl.slot_start < (${args.date}::date + 2)::timestamp AT TIME ZONE 'UTC'
    WHERE pa.city = ${args.city} AND pa.is_active
      ${args.businessId !== null ? sql`AND pa.business_id = ${args.businessId}::bigint` : sql``}
    GROUP BY pa.id, b.id
    ORDER BY pa.active_booking_count, pa.id`);
}

/**
 * The cities of some partners of a business (all of its partners when `partnerIds` is empty):
 * the availablePartners scopes a change to them makes stale.
 */
export async function findCitiesOfPartners(db: Db, businessId: string, partnerIds: readonly string[]): Promise<string[]> {
  const rows = await query<{ city: string }>(db, 'findCitiesOfPartners', sql`
    SELECT DISTINCT pa.city FROM partners pa
    WHERE pa.business_id = ${businessId}::bigint
      ${partnerIds.length ? sql`AND pa.id = ANY(${partnerIds}::bigint[])` : sql``}`);
  return rows.map((r) => r.city);
}
