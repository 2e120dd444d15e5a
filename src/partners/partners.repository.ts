import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { PartnerModel } from './partner.model.js';

const PARTNER_CATALOG_COLUMNS = `pa.id, pa.business_id AS "businessId", pa.name, pa.city, pa.is_active AS "isActive", pa.deleted_at AS "archivedAt"`;
const PARTNER_COLUMNS = sql.raw(`${PARTNER_CATALOG_COLUMNS}, pa.active_booking_count AS "activeBookingCount"`);

/** Partners by id, without their booking count (see PartnerModel.activeBookingCount): what the catalog cache keeps. */
export function findPartnersByIds(db: Db, ids: readonly string[]): Promise<PartnerModel[]> {
  return query(db, 'findPartnersByIds', sql`
    SELECT ${sql.raw(PARTNER_CATALOG_COLUMNS)} FROM partners pa WHERE pa.id = ANY(${ids}::bigint[])`);
}

/** Partners' pending and confirmed bookings from now on, by id. */
export async function findActiveBookingCountsByPartnerIds(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  const rows = await query<{ id: string; count: number }>(db, 'findActiveBookingCountsByPartnerIds', sql`
    SELECT pa.id, pa.active_booking_count AS count FROM partners pa WHERE pa.id = ANY(${ids}::bigint[])`);
  return new Map(rows.map((row) => [row.id, row.count]));
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
 * Locks a live (not archived) partner of `businessId` (of any business when null) for a change;
 * undefined when there is none. FOR NO KEY UPDATE rather than FOR UPDATE: bookings and slots inserted meanwhile check their
 * foreign key with a KEY SHARE lock on the partner, which this lock does not block.
 */
export async function lockPartnerById(trx: Trx, id: string, businessId: string | null): Promise<PartnerModel | undefined> {
  const result = await sql<PartnerModel>`/* lockPartnerById */
    SELECT ${PARTNER_COLUMNS} FROM partners pa
    WHERE ${allOf([sql`pa.id = ${id}::bigint AND pa.deleted_at IS NULL`, businessId !== null && sql`pa.business_id = ${businessId}::bigint`])}
    FOR NO KEY UPDATE`.execute(trx);
  return result.rows[0];
}

export async function updatePartnerActive(trx: Trx, id: string, isActive: boolean): Promise<PartnerModel> {
  const result = await sql<PartnerModel>`/* updatePartnerActive */
    UPDATE partners AS pa SET is_active = ${isActive} WHERE pa.id = ${id}::bigint RETURNING ${PARTNER_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** A partner by id, and whether they perform the service: the partner a claim names, checked in one statement. */
export async function findPartnerForService(db: Db, id: string, serviceId: string): Promise<(PartnerModel & { performsService: boolean }) | undefined> {
  const rows = await query<PartnerModel & { performsService: boolean }>(db, 'findPartnerForService', sql`
    SELECT ${PARTNER_COLUMNS},
      EXISTS (SELECT 1 FROM partner_services ps WHERE ps.partner_id = pa.id AND ps.service_id = ${serviceId}::bigint) AS "performsService"
    FROM partners pa WHERE pa.id = ${id}::bigint`);
  return rows[0];
}

export async function insertPartner(trx: Trx, draft: { businessId: string; name: string; city: string; isActive: boolean }): Promise<PartnerModel> {
  const result = await sql<PartnerModel>`/* insertPartner */
    INSERT INTO partners AS pa (business_id, name, city, is_active)
    VALUES (${draft.businessId}::bigint, ${draft.name}, ${draft.city}, ${draft.isActive})
    RETURNING ${PARTNER_COLUMNS}`.execute(trx);
  return result.rows[0];
}

export async function updatePartnerProfile(trx: Trx, id: string, profile: { name: string; city: string }): Promise<PartnerModel> {
  const result = await sql<PartnerModel>`/* updatePartnerProfile */
    UPDATE partners AS pa SET name = ${profile.name}, city = ${profile.city} WHERE pa.id = ${id}::bigint RETURNING ${PARTNER_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** Archived is inactive too (a CHECK keeps it so): every check of is_active refuses the partner. */
export async function archivePartner(trx: Trx, id: string): Promise<PartnerModel> {
  const result = await sql<PartnerModel>`/* archivePartner */
    UPDATE partners AS pa SET deleted_at = now(), is_active = false WHERE pa.id = ${id}::bigint RETURNING ${PARTNER_COLUMNS}`.execute(trx);
  return result.rows[0];
}
