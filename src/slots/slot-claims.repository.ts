import { sql } from 'kysely';
import type { Trx } from '../shared/transaction.js';
import { SLOT_IS_FREE } from './slots.repository.js';

/**
 * Claiming slots for bookings: the statements that decide who gets a contested time.
 * A booking holds the consecutive slots covering [startsAt, endsAt) of one partner. Slots of a
 * partner never overlap (exclusion constraint), so slots inside the range whose lengths add up to
 * the range's length cover it exactly.
 */

export interface ClaimableSlot {
  id: string;
  startsAt: string;
  endsAt: string;
}

/**
 * Locks the partner's slots in [startsAt, endsAt) that are free (or already held by `ownBookingId`,
 * for a reschedule that overlaps itself), in start order.
 *
 * `skipLocked` is for choosing among candidate partners: a slot another transaction is claiming
 * right now counts as taken, so the caller moves on to the next partner instead of queueing. When
 * the partner is given, the caller waits instead: the other transaction may still roll back (it
 * missed another of its slots), and failing fast would then leave the time booked by nobody. Once
 * it commits, the row is re-checked against the WHERE clause and dropped if no longer free.
 * Locking in start order means two claims on one partner never wait on each other in a circle.
 */
export async function lockFreeSlotsInRange(
  trx: Trx,
  args: { partnerId: string; startsAt: string; endsAt: string; ownBookingId?: string; skipLocked: boolean },
): Promise<ClaimableSlot[]> {
  const result = await sql<ClaimableSlot>`/* lockFreeSlotsInRange */
    SELECT sl.id, sl.slot_start AS "startsAt", sl.slot_end AS "endsAt" FROM partner_slots sl
    WHERE sl.partner_id = ${args.partnerId}::bigint
      -- slot_start < endsAt follows from slot_end <= endsAt, but only it bounds the index range above.
      AND sl.slot_start >= ${args.startsAt}::timestamptz AND sl.slot_start < ${args.endsAt}::timestamptz
      AND sl.slot_end <= ${args.endsAt}::timestamptz
      AND ${args.ownBookingId ? sql`(${SLOT_IS_FREE} OR sl.booking_id = ${args.ownBookingId}::bigint)` : SLOT_IS_FREE}
    ORDER BY sl.slot_start
    FOR UPDATE ${args.skipLocked ? sql`SKIP LOCKED` : sql``}`.execute(trx);
  return result.rows;
}

/** True when the slots cover [startsAt, endsAt) exactly. */
export function coversRange(slots: readonly ClaimableSlot[], startsAt: string, endsAt: string): boolean {
  const total = slots.reduce((sum, s) => sum + (Date.parse(s.endsAt) - Date.parse(s.startsAt)), 0);
  return slots.length > 0 && total === Date.parse(endsAt) - Date.parse(startsAt);
}

/** Active partners of a business who perform the service (optionally in a city) with [startsAt, endsAt) free, least busy first. */
export async function findFreePartnerIds(trx: Trx, args: { businessId: string; serviceId: string; city: string | null; startsAt: string; endsAt: string; limit: number }): Promise<string[]> {
  const result = await sql<{ id: string }>`/* findFreePartnerIds */
    SELECT pa.id FROM partners pa
    JOIN partner_services ps ON ps.partner_id = pa.id AND ps.service_id = ${args.serviceId}::bigint
    JOIN partner_slots sl ON sl.partner_id = pa.id AND ${SLOT_IS_FREE}
      AND sl.slot_start >= ${args.startsAt}::timestamptz AND sl.slot_start < ${args.endsAt}::timestamptz
      AND sl.slot_end <= ${args.endsAt}::timestamptz
    WHERE pa.business_id = ${args.businessId}::bigint AND pa.is_active
      ${args.city !== null ? sql`AND pa.city = ${args.city}` : sql``}
    GROUP BY pa.id, pa.active_booking_count
    HAVING sum(sl.slot_end - sl.slot_start) = ${args.endsAt}::timestamptz - ${args.startsAt}::timestamptz
    ORDER BY pa.active_booking_count, pa.id
    LIMIT ${args.limit}`.execute(trx);
  return result.rows.map((r) => r.id);
}

export async function holdSlotsForBooking(trx: Trx, slotIds: readonly string[], bookingId: string): Promise<void> {
  await sql`/* holdSlotsForBooking */
    UPDATE partner_slots SET status = 'booked', booking_id = ${bookingId}::bigint, hold_id = NULL, held_until = NULL
    WHERE id = ANY(${slotIds}::bigint[])`.execute(trx);
}

/** Reserves slots (locked by `lockFreeSlotsInRange`) for a hold until it lapses. */
export async function markSlotsHeld(trx: Trx, slotIds: readonly string[], holdId: string, heldUntil: string): Promise<void> {
  await sql`/* markSlotsHeld */
    UPDATE partner_slots SET hold_id = ${holdId}::bigint, held_until = ${heldUntil}::timestamptz
    WHERE id = ANY(${slotIds}::bigint[])`.execute(trx);
}

/**
 * Locks the slots a live hold still reserves, for the booking that uses the hold. No SKIP LOCKED:
 * nobody else may claim them, so a lock held by anyone else is brief (a slotBlock looking at them).
 */
export async function lockSlotsOfHold(trx: Trx, hold: { id: string; partnerId: string; startsAt: string; endsAt: string }): Promise<ClaimableSlot[]> {
  // The partner and range reach the slots through partner_slots_partner_start_key; hold_id has no index.
  const result = await sql<ClaimableSlot>`/* lockSlotsOfHold */
    SELECT sl.id, sl.slot_start AS "startsAt", sl.slot_end AS "endsAt" FROM partner_slots sl
    WHERE sl.partner_id = ${hold.partnerId}::bigint
      AND sl.slot_start >= ${hold.startsAt}::timestamptz AND sl.slot_start < ${hold.endsAt}::timestamptz
      AND sl.slot_end <= ${hold.endsAt}::timestamptz
      AND sl.hold_id = ${hold.id}::bigint AND sl.status = 'available' AND sl.held_until > now()
    ORDER BY sl.slot_start
    FOR UPDATE`.execute(trx);
  return result.rows;
}

/** Frees the slots a booking holds, except `keepIds` (a reschedule keeps the ones it still needs). */
export async function releaseSlotsOfBooking(trx: Trx, bookingId: string, keepIds: readonly string[] = []): Promise<void> {
  await sql`/* releaseSlotsOfBooking */
    UPDATE partner_slots SET status = 'available', booking_id = NULL
    WHERE booking_id = ${bookingId}::bigint AND NOT (id = ANY(${keepIds}::bigint[]))`.execute(trx);
}

/**
 * Whether the partner has a taken slot (booked, blocked, or under a live hold; not `ownBookingId`'s)
 * within the buffers around [startsAt, endsAt): the margins a service needs free before and after.
 * Time where the partner has no slot counts as free, as in availableSlots. The margins are read, not
 * locked: buffers are a courtesy between bookings, while overlap itself is refused by locks and the
 * exclusion constraint.
 */
export async function hasTakenSlotsInBuffers(
  trx: Trx,
  args: { partnerId: string; startsAt: string; endsAt: string; beforeMinutes: number; afterMinutes: number; ownBookingId?: string },
): Promise<boolean> {
  const result = await sql<{ taken: boolean }>`/* hasTakenSlotsInBuffers */
    SELECT EXISTS (
      SELECT 1 FROM partner_slots sl
      WHERE sl.partner_id = ${args.partnerId}::bigint
        AND NOT ${SLOT_IS_FREE}
        ${args.ownBookingId ? sql`AND sl.booking_id IS DISTINCT FROM ${args.ownBookingId}::bigint` : sql``}
        AND (
          (sl.slot_end > ${args.startsAt}::timestamptz - make_interval(mins => ${args.beforeMinutes}) AND sl.slot_start < ${args.startsAt}::timestamptz)
          OR (sl.slot_start < ${args.endsAt}::timestamptz + make_interval(mins => ${args.afterMinutes}) AND sl.slot_end > ${args.endsAt}::timestamptz)
        )
    ) AS taken`.execute(trx);
  return result.rows[0].taken;
}
