import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { ServiceModel } from './service.model.js';

const SERVICE_COLUMNS = sql.raw(
  `s.id, s.business_id AS "businessId", s.name, s.duration_minutes AS "durationMinutes",
   s.price_cents AS "priceCents", b.currency, s.is_active AS "isActive",
   s.buffer_before_minutes AS "bufferBeforeMinutes", s.buffer_after_minutes AS "bufferAfterMinutes",
   s.description, s.deleted_at AS "archivedAt"`,
);

/** Services by id, archived ones too: the bookings made for a service keep reading it. */
export function findServicesByIds(db: Db, ids: readonly string[]): Promise<ServiceModel[]> {
  return query(db, 'findServicesByIds', sql`
    SELECT ${SERVICE_COLUMNS} FROM services s JOIN businesses b ON b.id = s.business_id
    WHERE s.id = ANY(${ids}::bigint[])`);
}

export interface ServiceListArgs {
  includeInactive: boolean;
  after: [name: string, id: string] | null;
  limit: number;
}

export function findServicePagesByBusinessIds(db: Db, businessIds: readonly string[], args: ServiceListArgs) {
  return lateralPages<ServiceModel>(db, 'findServicePagesByBusinessIds', businessIds, sql`
    SELECT p.parent_id AS "parentId", ${SERVICE_COLUMNS}
    FROM services s JOIN businesses b ON b.id = s.business_id
    WHERE ${allOf([
      sql`s.business_id = p.parent_id AND s.deleted_at IS NULL`,
      !args.includeInactive && sql`s.is_active`,
      args.after && sql`(s.name, s.id) > (${args.after[0]}, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY s.name, s.id LIMIT ${args.limit}`);
}

export async function countServicesByBusinessIds(db: Db, businessIds: readonly string[], includeInactive: boolean) {
  const rows = await query<{ businessId: string; count: number }>(db, 'countServicesByBusinessIds', sql`
    SELECT s.business_id AS "businessId", count(*)::int AS count FROM services s
    WHERE ${allOf([sql`s.business_id = ANY(${businessIds}::bigint[]) AND s.deleted_at IS NULL`, !includeInactive && sql`s.is_active`])}
    GROUP BY s.business_id`);
  return new Map(rows.map((r) => [r.businessId, r.count]));
}

/** The business's active services of exactly this length (a booking by slots names no service). */
export function findActiveServicesByDuration(db: Db, businessId: string, minutes: number): Promise<ServiceModel[]> {
  return query(db, 'findActiveServicesByDuration', sql`
    SELECT ${SERVICE_COLUMNS} FROM services s JOIN businesses b ON b.id = s.business_id
    WHERE s.business_id = ${businessId}::bigint AND s.duration_minutes = ${minutes} AND s.is_active AND s.deleted_at IS NULL
    ORDER BY s.name, s.id`);
}

/** The lengths of the business's live services, each once. */
export async function findLiveServiceDurations(db: Db, businessId: string): Promise<number[]> {
  const rows = await query<{ minutes: number }>(db, 'findLiveServiceDurations', sql`
    SELECT DISTINCT s.duration_minutes AS minutes FROM services s WHERE s.business_id = ${businessId}::bigint AND s.deleted_at IS NULL`);
  return rows.map((r) => r.minutes);
}
