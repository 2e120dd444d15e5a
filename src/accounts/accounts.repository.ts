import { sql } from 'kysely';
import type { CustomerGrant, MembershipGrant, MembershipRole } from '../auth/viewer.js';
import { query, type Db } from '../db/sql-helpers.js';
import type { MembershipRoleColumn } from '../db/tables.js';
import type { Trx } from '../shared/transaction.js';
import type { MembershipModel } from './membership.model.js';

/**
 * Accounts: a person as an identity provider knows them (`iss` + `sub`). The only place that builds
 * queries for `accounts` and `memberships`.
 */
export interface AccountIdentity {
  /** The token's `iss`, '' for tokens of the development secret. */
  issuer: string;
  subject: string;
  email: string | null;
  name: string | null;
}

/**
 * The account of an identity, created on first use; its e-mail and name follow the latest token.
 * One statement, and safe under concurrency: two first requests of one account make one row.
 */
export async function upsertAccount(db: Db, identity: AccountIdentity): Promise<string> {
  const row = await db
    .insertInto('accounts')
    .values({ issuer: identity.issuer, subject: identity.subject, email: identity.email, name: identity.name })
    .onConflict((oc) =>
      oc.columns(['issuer', 'subject']).doUpdateSet((eb) => ({
        email: eb.fn.coalesce(eb.ref('excluded.email'), eb.ref('accounts.email')),
        name: eb.fn.coalesce(eb.ref('excluded.name'), eb.ref('accounts.name')),
      })),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface MembershipDraft {
  accountId: string;
  businessId: string;
  role: MembershipRoleColumn;
  /** Only for a partner membership: the partner record it acts as. */
  partnerId: string | null;
}

/** Adds a live membership; the unique index refuses a second live one for the same account and business. */
export async function insertMembership(db: Db, draft: MembershipDraft): Promise<string> {
  const row = await db
    .insertInto('memberships')
    .values({ account_id: draft.accountId, business_id: draft.businessId, role: draft.role, partner_id: draft.partnerId })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** What each account may do: its live memberships and customer records, for many accounts in one statement. */
export interface AccountGrants {
  memberships: MembershipGrant[];
  customers: CustomerGrant[];
}

export async function findGrantsByAccountIds(db: Db, accountIds: readonly string[]): Promise<Map<string, AccountGrants>> {
  const rows = await query<{ accountId: string; kind: 'membership' | 'customer'; id: string; businessId: string; role: MembershipRole | null; partnerId: string | null }>(
    db,
    'findGrantsByAccountIds',
    sql`
      SELECT m.account_id AS "accountId", 'membership' AS kind, m.id, m.business_id AS "businessId", upper(m.role) AS role, m.partner_id AS "partnerId"
      FROM memberships m WHERE m.account_id = ANY(${accountIds}::bigint[]) AND m.removed_at IS NULL
      UNION ALL
      SELECT c.account_id, 'customer', c.id, c.business_id, NULL, NULL
      FROM customers c WHERE c.account_id = ANY(${accountIds}::bigint[]) AND c.deleted_at IS NULL
      ORDER BY 1, 4, 3`,
  );
  const grants = new Map<string, AccountGrants>(accountIds.map((id) => [id, { memberships: [], customers: [] }]));
  for (const row of rows) {
    const of = grants.get(row.accountId)!;
    if (row.kind === 'membership') of.memberships.push({ id: row.id, businessId: row.businessId, role: row.role!, partnerId: row.partnerId });
    else of.customers.push({ businessId: row.businessId, customerId: row.id });
  }
  return grants;
}

const MEMBERSHIP_COLUMNS = sql.raw(`m.id, m.account_id AS "accountId", m.business_id AS "businessId", upper(m.role) AS role, m.partner_id AS "partnerId"`);

/** Live memberships by id. */
export function findMembershipsByIds(db: Db, ids: readonly string[]): Promise<MembershipModel[]> {
  return query(db, 'findMembershipsByIds', sql`SELECT ${MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.id = ANY(${ids}::bigint[]) AND m.removed_at IS NULL`);
}

/** A live membership, locked for a change; undefined when there is none with that id. */
export async function lockMembershipById(trx: Trx, id: string): Promise<MembershipModel | undefined> {
  const [row] = await query<MembershipModel>(trx, 'lockMembershipById', sql`
    SELECT ${MEMBERSHIP_COLUMNS} FROM memberships m WHERE m.id = ${id}::bigint AND m.removed_at IS NULL FOR UPDATE`);
  return row;
}

/**
 * Locks the business's live owner memberships (in id order, so that two changes never wait on each
 * other crosswise) and returns their ids. Every change that could leave a business without an owner
 * takes these locks first: a second one waits, then sees the first's result.
 */
export async function lockOwnerMemberships(trx: Trx, businessId: string): Promise<string[]> {
  const rows = await query<{ id: string }>(trx, 'lockOwnerMemberships', sql`
    SELECT m.id FROM memberships m WHERE m.business_id = ${businessId}::bigint AND m.role = 'owner' AND m.removed_at IS NULL ORDER BY m.id FOR UPDATE`);
  return rows.map((r) => r.id);
}

/** The account's live membership in the business, or the live membership acting as the partner, if any. */
export async function findLiveMembershipConflicts(db: Db, args: { accountId: string; businessId: string; partnerId: string | null }): Promise<MembershipModel[]> {
  return query(db, 'findLiveMembershipConflicts', sql`
    SELECT ${MEMBERSHIP_COLUMNS} FROM memberships m
    WHERE m.removed_at IS NULL AND ((m.account_id = ${args.accountId}::bigint AND m.business_id = ${args.businessId}::bigint) OR m.partner_id = ${args.partnerId}::bigint)`);
}

/** Whether a live membership acts as the partner already. */
export async function partnerHasMembership(db: Db, partnerId: string, exceptMembershipId: string | null = null): Promise<boolean> {
  const rows = await query(db, 'partnerHasMembership', sql`
    SELECT 1 FROM memberships m WHERE m.partner_id = ${partnerId}::bigint AND m.removed_at IS NULL AND m.id IS DISTINCT FROM ${exceptMembershipId}::bigint`);
  return rows.length > 0;
}

export async function removeMembership(trx: Trx, id: string): Promise<void> {
  await query(trx, 'removeMembership', sql`UPDATE memberships SET removed_at = now() WHERE id = ${id}::bigint`);
}

export async function updateMembershipRole(trx: Trx, id: string, role: MembershipRoleColumn, partnerId: string | null): Promise<MembershipModel> {
  const [row] = await query<MembershipModel>(trx, 'updateMembershipRole', sql`
    UPDATE memberships AS m SET role = ${role}, partner_id = ${partnerId}::bigint WHERE m.id = ${id}::bigint RETURNING ${MEMBERSHIP_COLUMNS}`);
  return row;
}

/**
 * Locks the account's row: registrations of one account wait for each other, so that of two
 * concurrent first bookings the second finds the first's customer record (the unique index on
 * e-mail would otherwise refuse the second's insert rather than hand it the record).
 */
export async function lockAccountById(trx: Trx, id: string): Promise<void> {
  await query(trx, 'lockAccountById', sql`SELECT 1 FROM accounts WHERE id = ${id}::bigint FOR UPDATE`);
}

/** Adds the membership unless the account (or the partner record) has a live one already: for demo data, which is loaded again on every start. */
export async function ensureMembership(db: Db, draft: MembershipDraft): Promise<void> {
  await query(db, 'ensureMembership', sql`
    INSERT INTO memberships (account_id, business_id, role, partner_id)
    VALUES (${draft.accountId}::bigint, ${draft.businessId}::bigint, ${draft.role}, ${draft.partnerId}::bigint)
    ON CONFLICT DO NOTHING`);
}
