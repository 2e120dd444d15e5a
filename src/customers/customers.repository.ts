import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { CustomerModel } from './customer.model.js';

/** A customer's columns as the model names them (the messaging preferences too). */
export const CUSTOMER_COLUMNS = sql.raw(
  `c.id, c.business_id AS "businessId", c.email, c.name, c.phone, c.locale, c.reminders_opted_out_at AS "remindersOptedOutAt"`,
);

export function findCustomersByIds(db: Db, ids: readonly string[]): Promise<CustomerModel[]> {
  return query(db, 'findCustomersByIds', sql`
    SELECT ${CUSTOMER_COLUMNS} FROM customers c
    WHERE c.id = ANY(${ids}::bigint[]) AND c.deleted_at IS NULL`);
}

export function findCustomerPagesByBusinessIds(db: Db, businessIds: readonly string[], args: { after: [string, string] | null; limit: number }) {
  return lateralPages<CustomerModel>(db, 'findCustomerPagesByBusinessIds', businessIds, sql`
    SELECT p.parent_id AS "parentId", ${CUSTOMER_COLUMNS} FROM customers c
    WHERE ${allOf([
      sql`c.business_id = p.parent_id AND c.deleted_at IS NULL`,
      args.after && sql`(c.name, c.id) > (${args.after[0]}, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY c.name, c.id LIMIT ${args.limit}`);
}

// Writes: each runs inside the action's transaction.


/**
 * Inserts a live customer; undefined when the business already has a live customer with the e-mail
 * address (any case). One statement, right under concurrency: the partial unique index decides.
 */
export async function insertCustomer(trx: Trx, draft: { businessId: string; email: string; name: string }): Promise<CustomerModel | undefined> {
  const result = await sql<CustomerModel>`/* insertCustomer */
    INSERT INTO customers AS c (business_id, email, name) VALUES (${draft.businessId}::bigint, ${draft.email}, ${draft.name})
    ON CONFLICT (business_id, lower(email)) WHERE deleted_at IS NULL DO NOTHING
    RETURNING ${CUSTOMER_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** Locks a live customer for a change; undefined when there is none. */
export async function lockLiveCustomerById(trx: Trx, id: string): Promise<CustomerModel | undefined> {
  const result = await sql<CustomerModel>`/* lockLiveCustomerById */
    SELECT ${CUSTOMER_COLUMNS} FROM customers c WHERE c.id = ${id}::bigint AND c.deleted_at IS NULL FOR NO KEY UPDATE`.execute(trx);
  return result.rows[0];
}

/** Whether another live customer of the business has the e-mail address (any case). */
export async function isCustomerEmailTaken(trx: Trx, args: { businessId: string; email: string; exceptId: string }): Promise<boolean> {
  const result = await sql<{ taken: boolean }>`/* isCustomerEmailTaken */
    SELECT EXISTS (
      SELECT 1 FROM customers c
      WHERE c.business_id = ${args.businessId}::bigint AND lower(c.email) = lower(${args.email}) AND c.deleted_at IS NULL AND c.id <> ${args.exceptId}::bigint
    ) AS taken`.execute(trx);
  return result.rows[0].taken;
}

export async function updateCustomer(trx: Trx, id: string, profile: { email: string; name: string }): Promise<CustomerModel> {
  const result = await sql<CustomerModel>`/* updateCustomer */
    UPDATE customers AS c SET email = ${profile.email}, name = ${profile.name} WHERE c.id = ${id}::bigint RETURNING ${CUSTOMER_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/**
 * Opts a live customer out of reminders (`optedOut`, keeping the first opt-out's time) or back in;
 * with `phone` / `locale` given (undefined: kept), sets those too. Undefined when there is no such live customer.
 */
export async function updateCustomerNotificationSettings(
  db: Db,
  id: string,
  change: { optedOut?: boolean; phone?: string | null; locale?: string | null },
): Promise<CustomerModel | undefined> {
  const rows = await query<CustomerModel>(db, 'updateCustomerNotificationSettings', sql`
    UPDATE customers c SET
      reminders_opted_out_at = CASE WHEN ${change.optedOut ?? null}::boolean IS NULL THEN c.reminders_opted_out_at
                                    WHEN ${change.optedOut ?? null}::boolean THEN coalesce(c.reminders_opted_out_at, now()) END,
      phone = CASE WHEN ${change.phone !== undefined} THEN ${change.phone ?? null} ELSE c.phone END,
      locale = CASE WHEN ${change.locale !== undefined} THEN ${change.locale ?? null} ELSE c.locale END
    WHERE c.id = ${id}::bigint AND c.deleted_at IS NULL AND c.erased_at IS NULL
    RETURNING ${CUSTOMER_COLUMNS}`);
  return rows[0];
}
