import { sql } from 'kysely';
import type { Trx } from '../shared/transaction.js';

/**
 * partners.active_booking_count moves in the same transaction as the booking change that causes
 * it, so "least busy first" reads one indexed column instead of counting bookings.
 */
export async function adjustActiveBookingCount(trx: Trx, partnerId: string, delta: 1 | -1): Promise<void> {
  await sql`/* adjustActiveBookingCount */
    UPDATE partners SET active_booking_count = active_booking_count + ${delta}::int WHERE id = ${partnerId}::bigint`.execute(trx);
}
