import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { PartnerModel } from './partner.model.js';

const PARTNER_COLUMNS = sql.raw(
  `pa.id, pa.business_id AS "businessId", pa.name, pa.city, pa.is_active AS "isActive",
   pa.active_booking_count AS "activeBookingCount", pa.deleted_at AS "archivedAt"`,
);

export function findPartnersByIds(db: Db, ids: readonly string[]): Promise<PartnerModel[]> {
  return query(db, 'findPartnersByIds', sql`
    SELECT ${PARTNER_COLUMNS} FROM partners pa WHERE pa.id = ANY(${ids}::bigint[])`);
}

export interface PartnerListArgs {
  city: string | null;
  activeOnly: boolean;
  after: [name: string, id: string] | null;
  limit: number;
}

function partnerConditions(args: Omit<PartnerListArgs, 'after' | 'limit'>) {
  return [sql`pa.deleted_at IS NULL`, args.city !== null && sql`pa.city = ${args.city}`, args.activeOnly && sql`pa.is_active`];
}

export function findPartnerPagesByBusinessIds(db: Db, businessIds: readonly string[], args: PartnerListArgs) {
  return lateralPages<PartnerModel>(db, 'findPartnerPagesByBusinessIds', businessIds, sql`
    SELECT p.parent_id AS "parentId", ${PARTNER_COLUMNS} FROM partners pa
    WHERE ${allOf([
      sql`pa.business_id = p.parent_id`,
      ...partnerConditions(args),
      args.after && sql`(pa.name, pa.id) > (${args.after[0]}, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY pa.name, pa.id LIMIT ${args.limit}`);
}

export async function countPartnersByBusinessIds(db: Db, businessIds: readonly string[], args: Omit<PartnerListArgs, 'after' | 'limit'>) {
  const rows = await query<{ businessId: string; count: number }>(db, 'countPartnersByBusinessIds', sql`
    SELECT pa.business_id AS "businessId", count(*)::int AS count FROM partners pa
    WHERE ${allOf([sql`pa.business_id = ANY(${businessIds}::bigint[])`, ...partnerConditions(args)])}
    GROUP BY pa.business_id`);
  return new Map(rows.map((r) => [r.businessId, r.count]));
}

// Writes: each runs inside the action's transaction.

/**
 * Locks a partner of `businessId` (of any business when null) for a change; undefined when there is
 * none. FOR NO KEY UPDATE rather than FOR UPDATE: bookings and slots inserted meanwhile check their
 * foreign key with a KEY SHARE lock on the partner, which this lock does not block.
 */
export async function lockPartnerById(trx: Trx, id: string, businessId: string | null): Promise<PartnerModel | undefined> {
  const result = await sql<PartnerModel>`/* lockPartnerById */
    SELECT ${PARTNER_COLUMNS} FROM partners pa
    WHERE ${allOf([sql`pa.id = ${id}::bigint`, businessId !== null && sql`pa.business_id = ${businessId}::bigint`])}
    FOR NO KEY UPDATE`.execute(trx);
  return result.rows[0];
}

export async function updatePartnerActive(trx: Trx, id: string, isActive: boolean): Promise<PartnerModel> {
  const result = await sql<PartnerModel>`/* updatePartnerActive */
    UPDATE partners AS pa SET is_active = ${isActive} WHERE pa.id = ${id}::bigint RETURNING ${PARTNER_COLUMNS}`.execute(trx);
  return result.rows[0];
}
