import { sql } from 'kysely';
import { query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { CustomerModel } from './customer.model.js';
import { CUSTOMER_COLUMNS } from './customers.repository.js';

/**
 * Customer records of accounts: self-registration and erasure. Kept apart from the staff's customer
 * statements (customers.repository.ts); the one place that writes `customers.account_id`.
 */

/** A live customer of the business with this e-mail address, whoever it belongs to. */
export async function findCustomerByEmail(db: Db, businessId: string, email: string): Promise<(CustomerModel & { accountId: string | null }) | undefined> {
  const [row] = await query<CustomerModel & { accountId: string | null }>(db, 'findCustomerByEmail', sql`
    SELECT ${CUSTOMER_COLUMNS}, c.account_id AS "accountId" FROM customers c
    WHERE c.business_id = ${businessId}::bigint AND lower(c.email) = lower(${email}) AND c.deleted_at IS NULL`);
  return row;
}

/**
 * The account's customer record in the business, created if it has none. One statement, safe
 * under concurrency: the second of two first bookings waits on the unique index
 * customers_business_account_key and gets the first's record (`created` false).
 */
export async function upsertAccountCustomer(trx: Trx, args: { businessId: string; accountId: string; email: string; name: string }): Promise<CustomerModel & { created: boolean }> {
  const [row] = await query<CustomerModel & { created: boolean }>(trx, 'upsertAccountCustomer', sql`
    INSERT INTO customers AS c (business_id, email, name, account_id)
    VALUES (${args.businessId}::bigint, ${args.email}, ${args.name}, ${args.accountId}::bigint)
    ON CONFLICT (business_id, account_id) WHERE account_id IS NOT NULL AND deleted_at IS NULL
    DO UPDATE SET account_id = EXCLUDED.account_id
    RETURNING ${CUSTOMER_COLUMNS}, (c.xmax = 0) AS created`);
  return row;
}

/** A live customer, locked for its erasure, with whether it was erased already. */
export async function lockCustomerForErasure(trx: Trx, id: string): Promise<(CustomerModel & { accountId: string | null; erased: boolean }) | undefined> {
  const [row] = await query<CustomerModel & { accountId: string | null; erased: boolean }>(trx, 'lockCustomerForErasure', sql`
    SELECT ${CUSTOMER_COLUMNS}, c.account_id AS "accountId", c.erased_at IS NOT NULL AS erased
    FROM customers c WHERE c.id = ${id}::bigint AND c.deleted_at IS NULL FOR UPDATE`);
  return row;
}

/** Replaces the customer's name and e-mail (the placeholder address cannot be delivered to: .invalid) and cuts the account link. */
export async function eraseCustomer(trx: Trx, id: string): Promise<CustomerModel> {
  const [row] = await query<CustomerModel>(trx, 'eraseCustomer', sql`
    UPDATE customers AS c SET name = 'Erased customer', email = 'erased-' || c.id || '@erased.invalid', account_id = NULL, erased_at = now(),
      phone = NULL, locale = NULL
    WHERE c.id = ${id}::bigint RETURNING ${CUSTOMER_COLUMNS}`);
  return row;
}

/** Links a customer record without an account to one (demo data; an account never takes over another's record). */
export async function linkCustomerToAccount(db: Db, customerId: string, accountId: string): Promise<void> {
  await query(db, 'linkCustomerToAccount', sql`
    UPDATE customers SET account_id = ${accountId}::bigint WHERE id = ${customerId}::bigint AND account_id IS NULL AND deleted_at IS NULL`);
}

/**
 * The business's live customer with this e-mail address (or, for a guest who confirmed by text
 * message, this phone number), created if there is none. One statement, safe under concurrency:
 * the second of two guests with one address waits on the partial unique index and gets the
 * first's record. A phone-only guest's e-mail is `<phone>@phone.invalid` (undeliverable, like an
 * erased one's): `customers.email` stays the required, unique key, and `phone` (text reminders) is
 * set to the number.
 */
export async function upsertGuestCustomer(trx: Trx, args: { businessId: string; name: string; email: string | null; phone: string | null }): Promise<CustomerModel & { created: boolean }> {
  const email = args.email ?? `${args.phone}@phone.invalid`;
  const [row] = await query<CustomerModel & { created: boolean }>(trx, 'upsertGuestCustomer', sql`
    INSERT INTO customers AS c (business_id, email, name, phone) VALUES (${args.businessId}::bigint, ${email}, ${args.name}, ${args.phone})
    ON CONFLICT (business_id, lower(email)) WHERE deleted_at IS NULL DO UPDATE SET email = c.email
    RETURNING c.id, c.business_id AS "businessId", c.email, c.name, (c.xmax = 0) AS created`);
  return row;
}
