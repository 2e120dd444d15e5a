import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { PartnerModel } from './partner.model.js';

const PARTNER_COLUMNS = sql.raw(
  `pa.id, pa.business_id AS "businessId", pa.name, pa.city, pa.is_active AS "isActive",
   pa.active_booking_count AS "activeBookingCount"`,
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
  return [args.city !== null && sql`pa.city = ${args.city}`, args.activeOnly && sql`pa.is_active`];
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
