import { sql } from 'kysely';
import { groupBy, query, type Db } from '../db/sql-helpers.js';
import type { PaymentModel } from './payment.model.js';

const PAYMENT_COLUMNS = sql.raw(
  `pm.id, pm.business_id AS "businessId", pm.booking_id AS "bookingId", pm.provider,
   pm.provider_txn_id AS "providerTxnId", pm.amount_cents AS "amountCents", pm.currency,
   upper(pm.status) AS status, pm.created_at AS "createdAt"`,
);

export function findPaymentsByIds(db: Db, ids: readonly string[]): Promise<PaymentModel[]> {
  return query(db, 'findPaymentsByIds', sql`
    SELECT ${PAYMENT_COLUMNS} FROM payments pm WHERE pm.id = ANY(${ids}::bigint[])`);
}

export async function findPaymentsByBookingIds(db: Db, bookingIds: readonly string[]): Promise<Map<string, PaymentModel[]>> {
  const rows = await query<PaymentModel>(db, 'findPaymentsByBookingIds', sql`
    SELECT ${PAYMENT_COLUMNS} FROM payments pm
    WHERE pm.booking_id = ANY(${bookingIds}::bigint[]) ORDER BY pm.booking_id, pm.created_at, pm.id`);
  return groupBy(rows, (row) => row.bookingId);
}
