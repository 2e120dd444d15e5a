import { ensureMembership, upsertAccount, type AccountIdentity } from '../accounts/accounts.repository.js';
import { signDevelopmentToken } from '../auth/tokens.js';
import { linkCustomerToAccount } from '../customers/customer-accounts.repository.js';
import type { Db } from '../db/sql-helpers.js';
import type { DemoSummary } from './demo-data.js';

/**
 * The demo accounts: per demo business an owner, a staff member, a partner (the business's first
 * partner record) and a customer (its first customer record), each an account whose membership or
 * customer record this creates. `npm start` prints their tokens and `npm run token` signs the same
 * ones: a token names only the account, so both name the same partner and customer.
 */
export const DEMO_ACCOUNT_ROLES = ['owner', 'staff', 'partner', 'customer'] as const;
export type DemoAccountRole = (typeof DEMO_ACCOUNT_ROLES)[number];

/** The subject of a demo account (the token's `sub`). */
export const demoSubject = (role: DemoAccountRole, slug: string) => `demo-${role}-${slug}`;
const demoEmail = (role: DemoAccountRole, slug: string) => `${role}@${slug}.demo.example`;

/** Who a demo account is: what its token says, and what its account row holds. */
export function demoIdentity(role: DemoAccountRole, slug: string): AccountIdentity {
  return { issuer: '', subject: demoSubject(role, slug), email: demoEmail(role, slug), name: `Demo ${role} of ${slug}` };
}

/** Creates the demo accounts and their grants if they are missing; safe to run on every start. */
export async function seedDemoAccounts(db: Db, demo: DemoSummary): Promise<void> {
  for (const business of demo.businesses) {
    const account = (role: DemoAccountRole) => upsertAccount(db, demoIdentity(role, business.slug));
    // The memberships come from businessCreate and accepted invitations (demo-onboarding.ts); ensured
    // again here for demo data seeded before they did.
    await ensureMembership(db, { accountId: await account('owner'), businessId: business.id, role: 'owner', partnerId: null });
    await ensureMembership(db, { accountId: await account('staff'), businessId: business.id, role: 'staff', partnerId: null });
    if (business.partnerIds[0]) await ensureMembership(db, { accountId: await account('partner'), businessId: business.id, role: 'partner', partnerId: business.partnerIds[0] });
    if (business.customerIds[0]) await linkCustomerToAccount(db, business.customerIds[0], await account('customer'));
  }
}

/** A demo account's token (an account token: its grants come from the database). */
export function demoAccountToken(secret: string, role: DemoAccountRole, slug: string, expiresIn?: string): Promise<string> {
  return signDevelopmentToken(secret, { sub: demoSubject(role, slug), email: demoEmail(role, slug), name: `Demo ${role} of ${slug}` }, expiresIn);
}
