import { sql } from 'kysely';
import { allOf, query, type Db } from '../db/sql-helpers.js';
import type { BusinessModel } from './business.model.js';

const BUSINESS_COLUMNS = sql.raw(
  `b.id, b.slug, b.name, upper(b.kind) AS kind, b.city, b.time_zone AS "timeZone", b.currency,
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

/** Businesses by slug, optionally in one city, after a slug; `limit` rows. */
export function findBusinessPage(db: Db, args: { city: string | null; afterSlug: string | null; limit: number }): Promise<BusinessModel[]> {
  return query(db, 'findBusinessPage', sql`
    SELECT ${BUSINESS_COLUMNS} FROM businesses b
    WHERE ${allOf([
      sql`b.deleted_at IS NULL`,
      args.city !== null && sql`b.city = ${args.city}`,
      args.afterSlug !== null && sql`b.slug > ${args.afterSlug}`,
    ])}
    ORDER BY b.slug LIMIT ${args.limit}`);
}
