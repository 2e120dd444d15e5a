import { sql } from 'kysely';
import { groupBy, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { TranslationModel, TranslationTarget } from './translation.model.js';

const TRANSLATION_COLUMNS = sql.raw(`t.locale, t.name, t.description`);

/** Every translation of these businesses, by business id, in locale order. */
export async function findBusinessTranslationsByBusinessIds(db: Db, businessIds: readonly string[]): Promise<Map<string, TranslationModel[]>> {
  const rows = await query<TranslationModel & { ownerId: string }>(db, 'findBusinessTranslationsByBusinessIds', sql`
    SELECT t.business_id AS "ownerId", ${TRANSLATION_COLUMNS} FROM business_translations t
    WHERE t.business_id = ANY(${businessIds}::bigint[]) ORDER BY t.business_id, t.locale`);
  return groupBy(rows, (row) => row.ownerId);
}

/** Every translation of these services, by service id, in locale order. */
export async function findServiceTranslationsByServiceIds(db: Db, serviceIds: readonly string[]): Promise<Map<string, TranslationModel[]>> {
  const rows = await query<TranslationModel & { ownerId: string }>(db, 'findServiceTranslationsByServiceIds', sql`
    SELECT t.service_id AS "ownerId", ${TRANSLATION_COLUMNS} FROM service_translations t
    WHERE t.service_id = ANY(${serviceIds}::bigint[]) ORDER BY t.service_id, t.locale`);
  return groupBy(rows, (row) => row.ownerId);
}

/** The translation of the target into `locale`, locked until the transaction ends, or undefined. */
export async function lockTranslation(trx: Trx, target: TranslationTarget, locale: string): Promise<TranslationModel | undefined> {
  const result =
    target.kind === 'business'
      ? await sql<TranslationModel>`/* lockTranslation */
          SELECT ${TRANSLATION_COLUMNS} FROM business_translations t
          WHERE t.business_id = ${target.businessId}::bigint AND t.locale = ${locale} FOR UPDATE`.execute(trx)
      : await sql<TranslationModel>`/* lockTranslation */
          SELECT ${TRANSLATION_COLUMNS} FROM service_translations t
          WHERE t.service_id = ${target.serviceId}::bigint AND t.locale = ${locale} FOR UPDATE`.execute(trx);
  return result.rows[0];
}

/** How many translations the target has. */
export async function countTranslations(trx: Trx, target: TranslationTarget): Promise<number> {
  const result =
    target.kind === 'business'
      ? await sql<{ count: number }>`/* countTranslations */
          SELECT count(*)::int AS count FROM business_translations t WHERE t.business_id = ${target.businessId}::bigint`.execute(trx)
      : await sql<{ count: number }>`/* countTranslations */
          SELECT count(*)::int AS count FROM service_translations t WHERE t.service_id = ${target.serviceId}::bigint`.execute(trx);
  return result.rows[0].count;
}

/** Sets the target's translation into `translation.locale`, adding or replacing it. */
export async function upsertTranslation(trx: Trx, target: TranslationTarget, translation: TranslationModel): Promise<void> {
  const { locale, name, description } = translation;
  if (target.kind === 'business') {
    await sql`/* upsertTranslation */
      INSERT INTO business_translations (business_id, locale, name, description) VALUES (${target.businessId}::bigint, ${locale}, ${name}, ${description})
      ON CONFLICT (business_id, locale) DO UPDATE SET name = excluded.name, description = excluded.description, updated_at = now()`.execute(trx);
  } else {
    await sql`/* upsertTranslation */
      INSERT INTO service_translations (business_id, service_id, locale, name, description)
      VALUES (${target.businessId}::bigint, ${target.serviceId}::bigint, ${locale}, ${name}, ${description})
      ON CONFLICT (service_id, locale) DO UPDATE SET name = excluded.name, description = excluded.description, updated_at = now()`.execute(trx);
  }
}

/** Removes the target's translation into `locale`; returns it, or undefined when there was none. */
export async function deleteTranslation(trx: Trx, target: TranslationTarget, locale: string): Promise<TranslationModel | undefined> {
  const result =
    target.kind === 'business'
      ? await sql<TranslationModel>`/* deleteTranslation */
          DELETE FROM business_translations t WHERE t.business_id = ${target.businessId}::bigint AND t.locale = ${locale}
          RETURNING ${TRANSLATION_COLUMNS}`.execute(trx)
      : await sql<TranslationModel>`/* deleteTranslation */
          DELETE FROM service_translations t WHERE t.service_id = ${target.serviceId}::bigint AND t.locale = ${locale}
          RETURNING ${TRANSLATION_COLUMNS}`.execute(trx);
  return result.rows[0];
}
