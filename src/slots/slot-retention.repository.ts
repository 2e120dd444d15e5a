import { sql } from 'kysely';
import { deleteOldestBatch, type Db } from '../db/sql-helpers.js';

/**
 * Deletes up to `limit` slots nobody booked (free or blocked) that ended before `before`, the
 * earliest first (the retention job's batch); how many it deleted. Booked slots stay: their booking
 * points at them (`booking_id`) and Booking.slots reads them; a cancelled booking's slots were freed
 * and go like any free slot. A slot a claim holds right now is left for the next batch.
 */
export function purgePastUnbookedSlotsBefore(db: Db, before: Date, limit: number): Promise<number> {
  // Flagged for the stats' open-time trigger: those days keep the open time they had (migration 20261202000800).
  const purge = async (trx: Db) => {
    await sql`SET LOCAL booking_api.retention_purge = 'on'`.execute(trx);
    return deleteOldestBatch(trx, 'purgePastUnbookedSlotsBefore', { table: 'partner_slots', key: 'id', age: 'slot_end', before, limit, where: sql`o.status <> 'booked'` });
  };
  return db.isTransaction ? purge(db) : db.transaction().execute(purge);
}
