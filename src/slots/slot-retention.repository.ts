import { sql } from 'kysely';
import type { Db } from '../db/sql-helpers.js';

/**
 * Deletes up to `limit` slots nobody booked (free or blocked) that ended before `before`, the
 * earliest first (the retention job's batch); how many it deleted. Booked slots stay: their booking
 * points at them (`booking_id`) and Booking.slots reads them; a cancelled booking's slots were freed
 * and go like any free slot. SKIP LOCKED: a slot a claim holds right now is left for the next batch.
 */
export async function purgePastUnbookedSlotsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const result = await sql`/* purgePastUnbookedSlotsBefore */
    DELETE FROM partner_slots WHERE id = ANY(ARRAY(
      SELECT id FROM partner_slots WHERE status <> 'booked' AND slot_end < ${before.toISOString()}::timestamptz
      ORDER BY slot_end LIMIT ${limit} FOR UPDATE SKIP LOCKED))`.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
