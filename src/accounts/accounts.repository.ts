import type { Db } from '../db/sql-helpers.js';
import type { MembershipRoleColumn } from '../db/tables.js';

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
