import { insertMembership, upsertAccount } from '../../src/accounts/accounts.repository.js';
import type { Db } from '../../src/db/sql-helpers.js';
import type { MembershipRoleColumn } from '../../src/db/tables.js';
import type { TestApi } from './api.js';
import { uniqueSuffix, type BuiltBusiness, type BuiltCustomer, type BuiltPartner } from './builders.js';

export interface BuiltAccount {
  id: string;
  subject: string;
  email: string;
  /** An account token of this account (signed with the test secret, no `role` claim). */
  token: string;
}

/** An account (as its first token would make it) and its account token. */
export async function createAccount(api: TestApi, overrides: Partial<{ subject: string; email: string; name: string }> = {}): Promise<BuiltAccount> {
  const subject = overrides.subject ?? `account-${uniqueSuffix()}`;
  const email = overrides.email ?? `${subject}@accounts.example`;
  const name = overrides.name ?? `Account ${subject}`;
  const id = await upsertAccount(api.db, { issuer: '', subject, email, name });
  return { id, subject, email, token: await api.token({ sub: subject, email, name }) };
}

/** A live membership, written as the team mutations write it (tests announce their own changes when a warm cache matters). */
export async function addMembership(db: Db, account: { id: string }, business: BuiltBusiness, role: MembershipRoleColumn, partner?: BuiltPartner): Promise<string> {
  return insertMembership(db, { accountId: account.id, businessId: business.id, role, partnerId: role === 'partner' ? partner!.id : null });
}

/** Links a customer record to an account (a self-registered customer's record). */
export async function linkCustomer(db: Db, account: { id: string }, customer: BuiltCustomer): Promise<void> {
  await db.updateTable('customers').set({ account_id: account.id }).where('id', '=', customer.id).execute();
}
