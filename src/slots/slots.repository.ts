import { sql } from 'kysely';
import type { SlotStatus } from '../__generated__/resolvers-types.js';
import { allOf, groupBy, query, type Db } from '../db/sql-helpers.js';
import type { SlotModel } from './slot.model.js';

export const SLOT_COLUMNS = sql.raw(
  `sl.id, sl.business_id AS "businessId", sl.partner_id AS "partnerId", sl.slot_start AS "startsAt",
   sl.slot_end AS "endsAt", upper(sl.status) AS status, sl.booking_id AS "bookingId"`,
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
      args.status && sql`sl.status = ${args.status.toLowerCase()}`,
    ])}
    ORDER BY sl.partner_id, sl.slot_start`);
  return groupBy(rows, (row) => row.partnerId);
}
