import { sql, type RawBuilder } from 'kysely';
import type { BookingStatus } from '../__generated__/resolvers-types.js';
import type { BookingScope } from '../auth/access.js';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { BookingModel } from './booking.model.js';
import type { Trx } from '../shared/transaction.js';

export const BOOKING_COLUMNS = sql.raw(
  `bk.id, bk.business_id AS "businessId", bk.customer_id AS "customerId", bk.partner_id AS "partnerId",
   bk.service_id AS "serviceId", bk.starts_at AS "startsAt", bk.ends_at AS "endsAt", upper(bk.status) AS status,
   bk.cancel_reason AS "cancelReason", bk.total_cents AS "totalCents", bk.currency, bk.created_at AS "createdAt"`,
);

export function findBookingsByIds(db: Db, ids: readonly string[]): Promise<BookingModel[]> {
  return query(db, 'findBookingsByIds', sql`
    SELECT ${BOOKING_COLUMNS} FROM bookings bk WHERE bk.id = ANY(${ids}::bigint[]) AND bk.deleted_at IS NULL`);
}

export interface BookingListArgs {
  statuses: BookingStatus[] | null;
  from: string | null;
  to: string | null;
  /** The sort key of the last booking seen: [startsAt, id] by start time, [createdAt, id] for histories. */
  after: [string, string] | null;
  limit: number;
}

/**
 * The viewer's scope as conditions: none for an admin; one grant's columns as they were (its plan
 * stays that of a single-tenant list); several grants OR-ed; no grant at all matches nothing.
 */
function scopeConditions(scope: BookingScope): RawBuilder<unknown>[] {
  if (scope.all) return [];
  const grants = scope.grants.map((grant) =>
    allOf([
      sql`bk.business_id = ${grant.businessId}::bigint`,
      grant.partnerId !== null && sql`bk.partner_id = ${grant.partnerId}::bigint`,
      grant.customerId !== null && sql`bk.customer_id = ${grant.customerId}::bigint`,
    ]),
  );
  if (grants.length === 0) return [sql`false`];
  if (grants.length === 1) return grants;
  return [sql`(${sql.join(grants.map((g) => sql`(${g})`), sql` OR `)})`];
}

function filterConditions(args: BookingListArgs) {
  return [
    args.statuses && sql`bk.status = ANY(${args.statuses.map((s) => s.toLowerCase())}::text[])`,
    args.from !== null && sql`bk.starts_at >= ${args.from}::timestamptz`,
    args.to !== null && sql`bk.starts_at < ${args.to}::timestamptz`,
  ];
}

/** Bookings by start time per parent; `parentColumn` is the business or partner key. */
function findBookingPagesByStart(db: Db, name: string, parentColumn: 'business_id' | 'partner_id', parentIds: readonly string[], scope: BookingScope, args: BookingListArgs) {
  return lateralPages<BookingModel>(db, name, parentIds, sql`
    SELECT p.parent_id AS "parentId", ${BOOKING_COLUMNS} FROM bookings bk
    WHERE ${allOf([
      sql`bk.${sql.raw(parentColumn)} = p.parent_id AND bk.deleted_at IS NULL`,
      ...scopeConditions(scope),
      ...filterConditions(args),
      args.after && sql`(bk.starts_at, bk.id) > (${args.after[0]}::timestamptz, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY bk.starts_at, bk.id LIMIT ${args.limit}`);
}

export function findBookingPagesByBusinessIds(db: Db, businessIds: readonly string[], scope: BookingScope, args: BookingListArgs) {
  return findBookingPagesByStart(db, 'findBookingPagesByBusinessIds', 'business_id', businessIds, scope, args);
}

export function findBookingPagesByPartnerIds(db: Db, partnerIds: readonly string[], scope: BookingScope, args: BookingListArgs) {
  return findBookingPagesByStart(db, 'findBookingPagesByPartnerIds', 'partner_id', partnerIds, scope, args);
}

/** A customer's history, newest first (index: customer_id, status, created_at DESC, id DESC). */
export function findBookingPagesByCustomerIds(db: Db, customerIds: readonly string[], scope: BookingScope, args: BookingListArgs) {
  return lateralPages<BookingModel>(db, 'findBookingPagesByCustomerIds', customerIds, sql`
    SELECT p.parent_id AS "parentId", ${BOOKING_COLUMNS} FROM bookings bk
    WHERE ${allOf([
      sql`bk.customer_id = p.parent_id AND bk.deleted_at IS NULL`,
      ...scopeConditions(scope),
      ...filterConditions(args),
      args.after && sql`(bk.created_at, bk.id) < (${args.after[0]}::timestamptz, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY bk.created_at DESC, bk.id DESC LIMIT ${args.limit}`);
}

// Writes: each runs inside the action's transaction.

/** Locks a live booking for a change; undefined when there is none with that id. */
export async function lockBookingById(trx: Trx, id: string): Promise<BookingModel | undefined> {
  const result = await sql<BookingModel>`/* lockBookingById */
    SELECT ${BOOKING_COLUMNS} FROM bookings bk WHERE bk.id = ${id}::bigint AND bk.deleted_at IS NULL FOR UPDATE`.execute(trx);
  return result.rows[0];
}

export interface NewBooking {
  businessId: string;
  customerId: string;
  partnerId: string;
  serviceId: string;
  startsAt: string;
  endsAt: string;
  totalCents: number;
  currency: string;
}

export async function insertBooking(trx: Trx, b: NewBooking): Promise<BookingModel> {
  const result = await sql<BookingModel>`/* insertBooking */
    INSERT INTO bookings AS bk (business_id, customer_id, partner_id, service_id, starts_at, ends_at, total_cents, currency)
    VALUES (${b.businessId}::bigint, ${b.customerId}::bigint, ${b.partnerId}::bigint, ${b.serviceId}::bigint,
            ${b.startsAt}::timestamptz, ${b.endsAt}::timestamptz, ${b.totalCents}, ${b.currency})
    RETURNING ${BOOKING_COLUMNS}`.execute(trx);
  return result.rows[0];
}

export async function updateBookingStatus(trx: Trx, id: string, status: BookingStatus, cancelReason: string | null = null): Promise<BookingModel> {
  const result = await sql<BookingModel>`/* updateBookingStatus */
    UPDATE bookings AS bk SET status = ${status.toLowerCase()}, cancel_reason = ${cancelReason}, updated_at = now()
    WHERE bk.id = ${id}::bigint RETURNING ${BOOKING_COLUMNS}`.execute(trx);
  return result.rows[0];
}

export async function updateBookingTime(trx: Trx, id: string, change: { partnerId: string; startsAt: string; endsAt: string }): Promise<BookingModel> {
  const result = await sql<BookingModel>`/* updateBookingTime */
    UPDATE bookings AS bk SET partner_id = ${change.partnerId}::bigint, starts_at = ${change.startsAt}::timestamptz,
      ends_at = ${change.endsAt}::timestamptz, updated_at = now()
    WHERE bk.id = ${id}::bigint RETURNING ${BOOKING_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/**
 * Whether the business (or one partner of it) has a pending or confirmed booking starting after
 * now: what must be cancelled or moved before the business or the partner is archived.
 *
 * The latest such booking, walking the (business or partner, starts_at) index down from the end:
 * it reads at most the bookings ahead. An EXISTS let the planner expect an early hit in a scan of
 * the whole table, which a marketplace's years of past bookings turned into a scan of all of them.
 */
export async function hasFutureLiveBookings(trx: Trx, args: { businessId: string; partnerId: string | null }): Promise<boolean> {
  const result = await sql<{ startsAt: string }>`/* hasFutureLiveBookings */
    SELECT bk.starts_at AS "startsAt" FROM bookings bk
    WHERE ${args.partnerId !== null ? sql`bk.partner_id = ${args.partnerId}::bigint` : sql`bk.business_id = ${args.businessId}::bigint`}
      AND bk.starts_at > now() AND bk.status IN ('pending', 'confirmed') AND bk.deleted_at IS NULL
    ORDER BY bk.starts_at DESC LIMIT 1`.execute(trx);
  return result.rows.length > 0;
}
