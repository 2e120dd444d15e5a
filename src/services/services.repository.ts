import { sql } from 'kysely';
import { allOf, groupBy, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { ServiceModel } from './service.model.js';

const SERVICE_COLUMNS = sql.raw(
  `s.id, s.business_id AS "businessId", s.name, s.description, b.default_locale AS "defaultLocale", s.duration_minutes AS "durationMinutes",
   s.price_cents AS "priceCents", b.currency, s.is_active AS "isActive",
   s.buffer_before_minutes AS "bufferBeforeMinutes", s.buffer_after_minutes AS "bufferAfterMinutes",
   s.deleted_at AS "archivedAt"`,
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

// Writes: each runs inside the action's transaction.

export interface ServiceDraft {
  name: string;
  description: string | null;
  durationMinutes: number;
  priceCents: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  isActive: boolean;
}

export async function insertService(trx: Trx, businessId: string, draft: ServiceDraft): Promise<ServiceModel> {
  const result = await sql<ServiceModel>`/* insertService */
    WITH s AS (
      INSERT INTO services (business_id, name, description, duration_minutes, price_cents, buffer_before_minutes, buffer_after_minutes, is_active)
      VALUES (${businessId}::bigint, ${draft.name}, ${draft.description}, ${draft.durationMinutes}, ${draft.priceCents},
        ${draft.bufferBeforeMinutes}, ${draft.bufferAfterMinutes}, ${draft.isActive})
      RETURNING *
    )
    SELECT ${SERVICE_COLUMNS} FROM s JOIN businesses b ON b.id = s.business_id`.execute(trx);
  return result.rows[0];
}

/**
 * Locks a live service and its business (whose slot length its duration must fit, so a concurrent
 * change of the slot length waits); undefined when there is none.
 */
export async function lockLiveServiceById(trx: Trx, id: string): Promise<(ServiceModel & { slotMinutes: number }) | undefined> {
  const result = await sql<ServiceModel & { slotMinutes: number }>`/* lockLiveServiceById */
    SELECT ${SERVICE_COLUMNS}, b.slot_minutes AS "slotMinutes" FROM services s JOIN businesses b ON b.id = s.business_id
    WHERE s.id = ${id}::bigint AND s.deleted_at IS NULL
    FOR NO KEY UPDATE`.execute(trx);
  return result.rows[0];
}

export async function updateService(trx: Trx, id: string, draft: ServiceDraft): Promise<ServiceModel> {
  const result = await sql<ServiceModel>`/* updateService */
    WITH s AS (
      UPDATE services SET name = ${draft.name}, description = ${draft.description}, duration_minutes = ${draft.durationMinutes},
        price_cents = ${draft.priceCents}, buffer_before_minutes = ${draft.bufferBeforeMinutes},
        buffer_after_minutes = ${draft.bufferAfterMinutes}, is_active = ${draft.isActive}
      WHERE id = ${id}::bigint RETURNING *
    )
    SELECT ${SERVICE_COLUMNS} FROM s JOIN businesses b ON b.id = s.business_id`.execute(trx);
  return result.rows[0];
}

/** Archived is inactive too (a CHECK keeps it so): every check of is_active refuses it. */
export async function archiveService(trx: Trx, id: string): Promise<ServiceModel> {
  const result = await sql<ServiceModel>`/* archiveService */
    WITH s AS (UPDATE services SET deleted_at = now(), is_active = false WHERE id = ${id}::bigint RETURNING *)
    SELECT ${SERVICE_COLUMNS} FROM s JOIN businesses b ON b.id = s.business_id`.execute(trx);
  return result.rows[0];
}

/** The live services that some partners perform, alphabetically per partner. */
export async function findServicesByPartnerIds(db: Db, partnerIds: readonly string[]) {
  const rows = await query<ServiceModel & { partnerId: string }>(db, 'findServicesByPartnerIds', sql`
    SELECT ps.partner_id AS "partnerId", ${SERVICE_COLUMNS}
    FROM partner_services ps
    JOIN services s ON s.id = ps.service_id AND s.deleted_at IS NULL
    JOIN businesses b ON b.id = s.business_id
    WHERE ps.partner_id = ANY(${partnerIds}::bigint[])
    ORDER BY s.name, s.id`);
  return groupBy(rows, (row) => row.partnerId);
}
