import { sql } from 'kysely';
import type { Trx } from '../shared/transaction.js';

/**
 * Which partners perform which service (partner_services): availability and assignment offer a
 * partner only for these. Each write checks what it was given in the same statement, by counting
 * the rows it found: a list naming anything else than a live record of the business finds fewer.
 */

/** Qualifies live partners of the business (all of them when `partnerIds` is null) for a new service; the partners found. */
export async function qualifyPartnersForService(trx: Trx, args: { businessId: string; serviceId: string; partnerIds: readonly string[] | null }): Promise<string[]> {
  const result = await sql<{ id: string }>`/* qualifyPartnersForService */
    INSERT INTO partner_services (business_id, partner_id, service_id)
    SELECT pa.business_id, pa.id, ${args.serviceId}::bigint FROM partners pa
    WHERE pa.business_id = ${args.businessId}::bigint AND pa.deleted_at IS NULL
      ${args.partnerIds !== null ? sql`AND pa.id = ANY(${args.partnerIds}::bigint[])` : sql``}
    RETURNING partner_id AS id`.execute(trx);
  return result.rows.map((r) => r.id);
}

/** Qualifies a new partner for live services of the business (all of them when `serviceIds` is null); the services found. */
export async function qualifyPartnerForServices(trx: Trx, args: { businessId: string; partnerId: string; serviceIds: readonly string[] | null }): Promise<string[]> {
  const result = await sql<{ id: string }>`/* qualifyPartnerForServices */
    INSERT INTO partner_services (business_id, partner_id, service_id)
    SELECT s.business_id, ${args.partnerId}::bigint, s.id FROM services s
    WHERE s.business_id = ${args.businessId}::bigint AND s.deleted_at IS NULL
      ${args.serviceIds !== null ? sql`AND s.id = ANY(${args.serviceIds}::bigint[])` : sql``}
    RETURNING service_id AS id`.execute(trx);
  return result.rows.map((r) => r.id);
}

/**
 * Makes the live services of the business in `serviceIds` exactly the ones the partner performs, in
 * one statement: how many of them were found (fewer than asked when one is not a live service of
 * the business), and the services removed and added.
 */
export async function replacePartnerServices(trx: Trx, args: { businessId: string; partnerId: string; serviceIds: readonly string[] }) {
  const result = await sql<{ found: number; removed: string[] | null; added: string[] | null }>`/* replacePartnerServices */
    WITH wanted AS (
      SELECT s.id FROM services s
      WHERE s.business_id = ${args.businessId}::bigint AND s.deleted_at IS NULL AND s.id = ANY(${args.serviceIds}::bigint[])
    ), removed AS (
      DELETE FROM partner_services ps
      WHERE ps.partner_id = ${args.partnerId}::bigint AND ps.service_id NOT IN (SELECT id FROM wanted)
      RETURNING ps.service_id
    ), added AS (
      INSERT INTO partner_services (business_id, partner_id, service_id)
      SELECT ${args.businessId}::bigint, ${args.partnerId}::bigint, w.id FROM wanted w
      ON CONFLICT (partner_id, service_id) DO NOTHING
      RETURNING service_id
    )
    SELECT (SELECT count(*) FROM wanted)::int AS found,
      (SELECT array_agg(service_id::text ORDER BY service_id) FROM removed) AS removed,
      (SELECT array_agg(service_id::text ORDER BY service_id) FROM added) AS added`.execute(trx);
  const row = result.rows[0];
  return { found: row.found, removed: row.removed ?? [], added: row.added ?? [] };
}
