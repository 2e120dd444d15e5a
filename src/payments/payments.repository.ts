import { sql } from 'kysely';
import type { PaymentStatus } from '../__generated__/resolvers-types.js';
import { groupBy, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
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

// Writes: each runs inside the action's transaction.

export interface NewPayment {
  businessId: string;
  bookingId: string;
  provider: string;
  providerTxnId: string;
  amountCents: number;
  currency: string;
}

export async function insertPayment(trx: Trx, p: NewPayment): Promise<PaymentModel> {
  const result = await sql<PaymentModel>`/* insertPayment */
    INSERT INTO payments AS pm (business_id, booking_id, provider, provider_txn_id, amount_cents, currency)
    VALUES (${p.businessId}::bigint, ${p.bookingId}::bigint, ${p.provider}, ${p.providerTxnId}, ${p.amountCents}, ${p.currency})
    RETURNING ${PAYMENT_COLUMNS}`.execute(trx);
  return result.rows[0];
}

export async function lockPaymentById(trx: Trx, id: string): Promise<PaymentModel | undefined> {
  const result = await sql<PaymentModel>`/* lockPaymentById */
    SELECT ${PAYMENT_COLUMNS} FROM payments pm WHERE pm.id = ${id}::bigint FOR UPDATE`.execute(trx);
  return result.rows[0];
}

/** The payment a provider's event is about (unique per provider and transaction id), locked. */
export async function lockPaymentByProviderTxnId(trx: Trx, provider: string, providerTxnId: string): Promise<PaymentModel | undefined> {
  const result = await sql<PaymentModel>`/* lockPaymentByProviderTxnId */
    SELECT ${PAYMENT_COLUMNS} FROM payments pm WHERE pm.provider = ${provider} AND pm.provider_txn_id = ${providerTxnId} FOR UPDATE`.execute(trx);
  return result.rows[0];
}

/** Whether the booking already has a succeeded payment: a second one would charge twice. */
export async function hasSucceededPayment(db: Db, bookingId: string): Promise<boolean> {
  const rows = await query(db, 'hasSucceededPayment', sql`
    SELECT 1 FROM payments pm WHERE pm.booking_id = ${bookingId}::bigint AND pm.status = 'succeeded' LIMIT 1`);
  return rows.length > 0;
}

/** Sets a payment's status; a refund also records when and how much (in full). */
export async function updatePaymentStatus(trx: Trx, id: string, status: PaymentStatus): Promise<PaymentModel> {
  const refunded = status === 'REFUNDED';
  const result = await sql<PaymentModel>`/* updatePaymentStatus */
    UPDATE payments AS pm SET status = ${status.toLowerCase()}, updated_at = now(),
      refunded_at = CASE WHEN ${refunded}::boolean THEN now() ELSE pm.refunded_at END,
      amount_refunded_cents = CASE WHEN ${refunded}::boolean THEN pm.amount_cents ELSE pm.amount_refunded_cents END
    WHERE pm.id = ${id}::bigint RETURNING ${PAYMENT_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/**
 * Succeeded payments of the given bookings that were cancelled at least their business's
 * cancellation window before the start: what a `booking.cancelled` change asks to refund. A
 * booking's `updated_at` is when it was cancelled, since a cancelled booking never changes again.
 * Read-only: the refund itself locks each payment.
 */
export function findRefundableCancelledPayments(db: Db, bookingIds: readonly string[]): Promise<PaymentModel[]> {
  if (!bookingIds.length) return Promise.resolve([]);
  return query(db, 'findRefundableCancelledPayments', sql`
    SELECT ${PAYMENT_COLUMNS}
    FROM bookings bk
    JOIN businesses b ON b.id = bk.business_id
    JOIN payments pm ON pm.booking_id = bk.id
    WHERE bk.id = ANY(${bookingIds}::bigint[])
      AND bk.status = 'cancelled' AND bk.deleted_at IS NULL AND pm.status = 'succeeded'
      AND bk.updated_at <= bk.starts_at - make_interval(mins => b.cancellation_window_minutes)
    ORDER BY pm.id`);
}

/** The payment of a provider's transaction, without a lock (a retried `paymentCreate` finds its own). */
export async function findPaymentByProviderTxnId(db: Db, provider: string, providerTxnId: string): Promise<PaymentModel | undefined> {
  const rows = await query<PaymentModel>(db, 'findPaymentByProviderTxnId', sql`
    SELECT ${PAYMENT_COLUMNS} FROM payments pm WHERE pm.provider = ${provider} AND pm.provider_txn_id = ${providerTxnId}`);
  return rows[0];
}
