import { sql } from 'kysely';
import type { SlotStatus } from '../__generated__/resolvers-types.js';
import { allOf, groupBy, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { SlotModel } from './slot.model.js';

/**
 * The one definition of a free slot: available, and not reserved by a hold that is still live.
 * A hold lapses by itself when `held_until` passes. Use it (with the alias `sl`) wherever slots
 * are offered or claimed.
 */
export const SLOT_IS_FREE = sql.raw(`(sl.status = 'available' AND (sl.held_until IS NULL OR sl.held_until <= now()))`);

export const SLOT_COLUMNS = sql.raw(
  `sl.id, sl.business_id AS "businessId", sl.partner_id AS "partnerId", sl.slot_start AS "startsAt",
   sl.slot_end AS "endsAt",
   CASE WHEN sl.status = 'available' AND sl.held_until > now() THEN 'HELD' ELSE upper(sl.status) END AS status,
   sl.booking_id AS "bookingId"`,
);

export function findSlotsByIds(db: Db, ids: readonly string[]): Promise<SlotModel[]> {
  return query(db, 'findSlotsByIds', sql`SELECT ${SLOT_COLUMNS} FROM partner_slots sl WHERE sl.id = ANY(${ids}::bigint[])`);
}

export async function findSlotsByBookingIds(db: Db, bookingIds: readonly string[]): Promise<Map<string, SlotModel[]>> {
  const rows = await query<SlotModel>(db, 'findSlotsByBookingIds', sql`
    SELECT ${SLOT_COLUMNS} FROM partner_slots sl
    WHERE sl.booking_id = ANY(${bookingIds}::bigint[]) ORDER BY sl.booking_id, sl.slot_start`);
  return groupBy(rows, (row) => row.bookingId!);
}

/**
 * The slots of each hold: the hold's partner's slots in its time range, whatever has become of them
 * since (booked by the hold's booking, free again after it lapsed).
 */
export async function findSlotsByHoldIds(db: Db, holdIds: readonly string[]): Promise<Map<string, SlotModel[]>> {
  const rows = await query<SlotModel & { holdId: string }>(db, 'findSlotsByHoldIds', sql`
    SELECT h.id AS "holdId", ${SLOT_COLUMNS} FROM slot_holds h
    JOIN partner_slots sl ON sl.partner_id = h.partner_id
      AND sl.slot_start >= h.starts_at AND sl.slot_start < h.ends_at AND sl.slot_end <= h.ends_at
    WHERE h.id = ANY(${holdIds}::bigint[]) ORDER BY h.id, sl.slot_start`);
  return groupBy(rows, (row) => row.holdId);
}

function slotStatusCondition(status: SlotStatus) {
  if (status === 'AVAILABLE') return SLOT_IS_FREE;
  if (status === 'HELD') return sql`sl.status = 'available' AND sl.held_until > now()`;
  return sql`sl.status = ${status.toLowerCase()}`;
}

export interface SlotRangeArgs {
  from: string;
  to: string;
  status: SlotStatus | null;
}

export async function findSlotsByPartnerIds(db: Db, partnerIds: readonly string[], args: SlotRangeArgs) {
  const rows = await query<SlotModel>(db, 'findSlotsByPartnerIds', sql`
    SELECT ${SLOT_COLUMNS} FROM partner_slots sl
    WHERE ${allOf([
      sql`sl.partner_id = ANY(${partnerIds}::bigint[])`,
      sql`sl.slot_start >= ${args.from}::timestamptz AND sl.slot_start < ${args.to}::timestamptz`,
      args.status && slotStatusCondition(args.status),
    ])}
    ORDER BY sl.partner_id, sl.slot_start`);
  return groupBy(rows, (row) => row.partnerId);
}

// Writes: each runs inside the action's transaction.

/** The slots a caller may change: `null` leaves that column unrestricted (an admin, or staff for partnerId). */
export interface SlotScope {
  businessId: string | null;
  partnerId: string | null;
}

function slotInScope(id: string, scope: SlotScope) {
  return [
    sql`sl.id = ${id}::bigint`,
    scope.businessId !== null && sql`sl.business_id = ${scope.businessId}::bigint`,
    scope.partnerId !== null && sql`sl.partner_id = ${scope.partnerId}::bigint`,
  ];
}

/**
 * Moves a slot from `from` to `to` in one conditional statement, so of two callers racing for the
 * same slot (or a booking claiming it meanwhile) exactly one wins. Undefined when the slot is
 * missing, out of scope, or not in `from`; `findSlotInScope` tells which. A slot under a live hold
 * is not AVAILABLE here: blocking it would take it from the customer who holds it.
 * Only AVAILABLE and BLOCKED are settable here: BOOKED needs a booking (see slot-claims.repository.ts).
 */
export async function updateSlotStatusIf(
  trx: Trx,
  id: string,
  scope: SlotScope,
  from: 'AVAILABLE' | 'BLOCKED',
  to: 'AVAILABLE' | 'BLOCKED',
): Promise<SlotModel | undefined> {
  const result = await sql<SlotModel>`/* updateSlotStatusIf */
    UPDATE partner_slots AS sl SET status = ${to.toLowerCase()}
    WHERE ${allOf([...slotInScope(id, scope), from === 'AVAILABLE' ? SLOT_IS_FREE : sql`sl.status = ${from.toLowerCase()}`])}
    RETURNING ${SLOT_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** A slot in scope, whatever its status; undefined when missing or out of scope. */
export async function findSlotInScope(trx: Trx, id: string, scope: SlotScope): Promise<SlotModel | undefined> {
  const result = await sql<SlotModel>`/* findSlotInScope */
    SELECT ${SLOT_COLUMNS} FROM partner_slots sl WHERE ${allOf(slotInScope(id, scope))}`.execute(trx);
  return result.rows[0];
}
