import { sql } from 'kysely';
import { allOf, query, type Db } from '../db/sql-helpers.js';
import type { BusinessModel } from './business.model.js';

const BUSINESS_COLUMNS = sql.raw(
  `b.id, b.slug, b.name, b.description, b.default_locale AS "defaultLocale", upper(b.kind) AS kind, b.city, b.time_zone AS "timeZone", b.currency,
   b.slot_minutes AS "slotMinutes", b.min_notice_minutes AS "minNoticeMinutes", b.max_advance_days AS "maxAdvanceDays",
   b.cancellation_window_minutes AS "cancellationWindowMinutes"`,
);

export function findBusinessesByIds(db: Db, ids: readonly string[]): Promise<BusinessModel[]> {
  return query(db, 'findBusinessesByIds', sql`
    SELECT ${BUSINESS_COLUMNS} FROM businesses b WHERE b.id = ANY(${ids}::bigint[]) AND b.deleted_at IS NULL`);
}

export function findBusinessesBySlugs(db: Db, slugs: readonly string[]): Promise<BusinessModel[]> {
  return query(db, 'findBusinessesBySlugs', sql`
    SELECT ${BUSINESS_COLUMNS} FROM businesses b WHERE b.slug = ANY(${slugs}::text[]) AND b.deleted_at IS NULL`);
}

export interface BusinessPageArgs {
  city: string | null;
  /** Text the business's name contains (case and accents aside), in its default locale or a translation, or null. */
  query: string | null;
  /** Text the name of one of its bookable services contains, in any locale, or null. */
  serviceQuery: string | null;
  afterSlug: string | null;
  limit: number;
}

/**
 * A LIKE pattern for names containing `text`, normalized by the same search_text() as the
 * search_name columns (see migration 20261201000500): the match ignores case and accents, and the
 * trigram indexes on those columns serve it. LIKE's own wildcards in the text match themselves.
 */
function containing(text: string) {
  return sql`'%' || search_text(${text.replace(/[\\%_]/g, '\\$&')}) || '%'`;
}

/** Live businesses by slug, optionally in one city and matching a search, after a slug; `limit` rows. */
export function findBusinessPage(db: Db, args: BusinessPageArgs): Promise<BusinessModel[]> {
  return query(db, 'findBusinessPage', sql`
    SELECT ${BUSINESS_COLUMNS} FROM businesses b
    WHERE ${allOf([
      sql`b.deleted_at IS NULL`,
      args.city !== null && sql`b.city = ${args.city}`,
      // Own names and translated ones, each branch through its trigram index (an OR across the
      // tables could use neither).
      args.query !== null &&
        sql`b.id IN (
          SELECT o.id FROM businesses o WHERE o.deleted_at IS NULL AND o.search_name LIKE ${containing(args.query)}
          UNION ALL SELECT t.business_id FROM business_translations t WHERE t.search_name LIKE ${containing(args.query)})`,
      args.serviceQuery !== null &&
        sql`b.id IN (
          SELECT s.business_id FROM services s WHERE s.deleted_at IS NULL AND s.is_active AND s.search_name LIKE ${containing(args.serviceQuery)}
          UNION ALL SELECT s.business_id FROM service_translations t JOIN services s ON s.id = t.service_id
          WHERE s.deleted_at IS NULL AND s.is_active AND t.search_name LIKE ${containing(args.serviceQuery)})`,
      args.afterSlug !== null && sql`b.slug > ${args.afterSlug}`,
    ])}
    ORDER BY b.slug LIMIT ${args.limit}`);
}
