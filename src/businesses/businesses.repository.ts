import { sql } from 'kysely';
import { allOf, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { BusinessModel } from './business.model.js';

const BUSINESS_COLUMNS = sql.raw(
  `b.id, b.slug, b.name, b.description, b.default_locale AS "defaultLocale", upper(b.kind) AS kind, b.city, b.time_zone AS "timeZone", b.currency,
   b.slot_minutes AS "slotMinutes", b.min_notice_minutes AS "minNoticeMinutes", b.max_advance_days AS "maxAdvanceDays",
   b.cancellation_window_minutes AS "cancellationWindowMinutes", b.reminder_hours AS "reminderHours", b.deleted_at AS "archivedAt"`,
);

/** Businesses by id, archived ones too: their bookings, services and customers keep reading them. */
export function findBusinessesByIds(db: Db, ids: readonly string[]): Promise<BusinessModel[]> {
  return query(db, 'findBusinessesByIds', sql`
    SELECT ${BUSINESS_COLUMNS} FROM businesses b WHERE b.id = ANY(${ids}::bigint[])`);
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

// Writes: each runs inside the action's transaction.

export interface BusinessDraft {
  slug: string;
  name: string;
  kind: string;
  city: string;
  timeZone: string;
  currency: string;
  description: string | null;
  defaultLocale: string;
  slotMinutes: number;
  minNoticeMinutes: number;
  maxAdvanceDays: number;
  cancellationWindowMinutes: number;
  reminderHours: number;
}

/**
 * Inserts a live business; undefined when another live business has the slug. One statement that
 * is right under concurrency: the partial unique index decides, not a read before the write.
 */
export async function insertBusiness(trx: Trx, draft: BusinessDraft): Promise<BusinessModel | undefined> {
  const result = await sql<BusinessModel>`/* insertBusiness */
    INSERT INTO businesses AS b (slug, name, kind, city, time_zone, currency, description, default_locale,
      slot_minutes, min_notice_minutes, max_advance_days, cancellation_window_minutes, reminder_hours)
    VALUES (${draft.slug}, ${draft.name}, ${draft.kind}, ${draft.city}, ${draft.timeZone}, ${draft.currency}, ${draft.description},
      ${draft.defaultLocale}, ${draft.slotMinutes}, ${draft.minNoticeMinutes}, ${draft.maxAdvanceDays}, ${draft.cancellationWindowMinutes}, ${draft.reminderHours})
    ON CONFLICT (slug) WHERE deleted_at IS NULL DO NOTHING
    RETURNING ${BUSINESS_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** Locks a live business for a change; undefined when there is none. */
export async function lockLiveBusinessById(trx: Trx, id: string): Promise<BusinessModel | undefined> {
  const result = await sql<BusinessModel>`/* lockLiveBusinessById */
    SELECT ${BUSINESS_COLUMNS} FROM businesses b WHERE b.id = ${id}::bigint AND b.deleted_at IS NULL FOR NO KEY UPDATE`.execute(trx);
  return result.rows[0];
}

/** The business's profile and settings as given; the caller checks the slug is free (or catches the unique violation). */
export async function updateBusiness(trx: Trx, id: string, business: Omit<BusinessDraft, 'timeZone' | 'currency'>): Promise<BusinessModel> {
  const result = await sql<BusinessModel>`/* updateBusiness */
    UPDATE businesses AS b SET slug = ${business.slug}, name = ${business.name}, kind = ${business.kind}, city = ${business.city},
      description = ${business.description}, default_locale = ${business.defaultLocale}, slot_minutes = ${business.slotMinutes},
      min_notice_minutes = ${business.minNoticeMinutes}, max_advance_days = ${business.maxAdvanceDays},
      cancellation_window_minutes = ${business.cancellationWindowMinutes}, reminder_hours = ${business.reminderHours}
    WHERE b.id = ${id}::bigint RETURNING ${BUSINESS_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** Whether another live business has the slug. */
export async function isSlugTaken(trx: Trx, slug: string, exceptId: string): Promise<boolean> {
  const result = await sql<{ taken: boolean }>`/* isSlugTaken */
    SELECT EXISTS (SELECT 1 FROM businesses b WHERE b.slug = ${slug} AND b.deleted_at IS NULL AND b.id <> ${exceptId}::bigint) AS taken`.execute(trx);
  return result.rows[0].taken;
}

export async function archiveBusiness(trx: Trx, id: string): Promise<BusinessModel> {
  const result = await sql<BusinessModel>`/* archiveBusiness */
    UPDATE businesses AS b SET deleted_at = now() WHERE b.id = ${id}::bigint RETURNING ${BUSINESS_COLUMNS}`.execute(trx);
  return result.rows[0];
}
