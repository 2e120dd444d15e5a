import { sql } from 'kysely';
import { query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { SlotHoldModel } from './slot-hold.model.js';

const HOLD_COLUMNS = sql.raw(
  `h.id, h.business_id AS "businessId", h.partner_id AS "partnerId", h.service_id AS "serviceId",
   h.customer_id AS "customerId", h.starts_at AS "startsAt", h.ends_at AS "endsAt", h.expires_at AS "expiresAt"`,
);

export function findSlotHoldsByIds(db: Db, ids: readonly string[]): Promise<SlotHoldModel[]> {
  return query(db, 'findSlotHoldsByIds', sql`SELECT ${HOLD_COLUMNS} FROM slot_holds h WHERE h.id = ANY(${ids}::bigint[])`);
}

// Writes: each runs inside the action's transaction.

export interface NewSlotHold {
  businessId: string;
  /** Null for a guest's hold. */
  customerId: string | null;
  partnerId: string;
  serviceId: string;
  startsAt: string;
  endsAt: string;
  minutes: number;
}

/** Inserts a hold that lapses `minutes` after the transaction's start (the database's clock decides). */
export async function insertSlotHold(trx: Trx, h: NewSlotHold): Promise<SlotHoldModel> {
  const result = await sql<SlotHoldModel>`/* insertSlotHold */
    INSERT INTO slot_holds AS h (business_id, customer_id, partner_id, service_id, starts_at, ends_at, expires_at)
    VALUES (${h.businessId}::bigint, ${h.customerId}::bigint, ${h.partnerId}::bigint, ${h.serviceId}::bigint,
            ${h.startsAt}::timestamptz, ${h.endsAt}::timestamptz, now() + make_interval(mins => ${h.minutes}))
    RETURNING ${HOLD_COLUMNS}`.execute(trx);
  return result.rows[0];
}

export interface LockedSlotHold extends SlotHoldModel {
  /** The booking that used the hold, or null. */
  bookingId: string | null;
  /** Not expired by the database's clock (a used hold may still be live by this measure). */
  live: boolean;
}

/** Locks a hold so that two bookings cannot both use it; undefined when there is none with that id. */
export async function lockSlotHoldById(trx: Trx, id: string): Promise<LockedSlotHold | undefined> {
  const result = await sql<LockedSlotHold>`/* lockSlotHoldById */
    SELECT ${HOLD_COLUMNS}, h.booking_id AS "bookingId", h.expires_at > now() AS live
    FROM slot_holds h WHERE h.id = ${id}::bigint FOR UPDATE`.execute(trx);
  return result.rows[0];
}

export async function markSlotHoldConsumed(trx: Trx, id: string, bookingId: string): Promise<void> {
  await sql`/* markSlotHoldConsumed */
    UPDATE slot_holds SET booking_id = ${bookingId}::bigint, consumed_at = now() WHERE id = ${id}::bigint`.execute(trx);
}
