import { sql } from 'kysely';
import { SLOT_IS_FREE } from '../slots/slots.repository.js';
import type { Trx } from '../shared/transaction.js';

/**
 * The statements that turn a schedule into partner_slots rows. They live with the schedules (the
 * slots domain owns claiming and blocking), and they only ever insert new rows or delete free ones:
 * booked, blocked and held slots are never touched.
 */

export interface SlotToInsert {
  businessId: string;
  partnerId: string;
  startsAt: string;
  endsAt: string;
}

export interface InsertedSlots {
  partnerId: string;
  count: number;
  firstStart: string;
  lastEnd: string;
}

/**
 * Inserts slots in one statement, skipping every row that an existing slot conflicts with:
 * `ON CONFLICT DO NOTHING` without a target takes every unique index and exclusion constraint as
 * an arbiter, so a row overlapping a booked or blocked slot (partner_slots_no_overlap) is skipped
 * like an exact duplicate, instead of failing the statement. Returns what was inserted, per partner.
 */
export async function insertSlotsSkippingConflicts(trx: Trx, slots: readonly SlotToInsert[]): Promise<InsertedSlots[]> {
  if (!slots.length) return [];
  const result = await sql<InsertedSlots>`/* insertSlotsSkippingConflicts */
    WITH inserted AS (
      INSERT INTO partner_slots (business_id, partner_id, slot_start, slot_end)
      SELECT b, p, s, e FROM unnest(${slots.map((x) => x.businessId)}::bigint[], ${slots.map((x) => x.partnerId)}::bigint[],
                                    ${slots.map((x) => x.startsAt)}::timestamptz[], ${slots.map((x) => x.endsAt)}::timestamptz[]) AS x(b, p, s, e)
      ON CONFLICT DO NOTHING
      RETURNING partner_id, slot_start, slot_end
    )
    SELECT partner_id AS "partnerId", count(*)::int AS count, min(slot_start) AS "firstStart", max(slot_end) AS "lastEnd"
    FROM inserted GROUP BY partner_id`.execute(trx);
  return result.rows;
}

/**
 * Deletes a partner's free slots starting in [from, to) except those exactly in `keep`; returns
 * how many went. Only free slots (SLOT_IS_FREE: available and not held) qualify; a slot that a
 * booking claims meanwhile is locked, and re-checked after the lock, so it stays.
 */
export async function deleteFreeSlotsExcept(
  trx: Trx,
  args: { partnerId: string; from: string; to: string; keep: readonly { startsAt: string; endsAt: string }[] },
): Promise<number> {
  const result = await sql<{ id: string }>`/* deleteFreeSlotsExcept */
    DELETE FROM partner_slots sl
    WHERE sl.partner_id = ${args.partnerId}::bigint
      AND sl.slot_start >= ${args.from}::timestamptz AND sl.slot_start < ${args.to}::timestamptz
      AND ${SLOT_IS_FREE}
      AND NOT EXISTS (
        SELECT 1 FROM unnest(${args.keep.map((k) => k.startsAt)}::timestamptz[], ${args.keep.map((k) => k.endsAt)}::timestamptz[]) AS k(s, e)
        WHERE k.s = sl.slot_start AND k.e = sl.slot_end)
    RETURNING sl.id`.execute(trx);
  return result.rows.length;
}
