import type { BusinessKind } from '../__generated__/resolvers-types.js';
import { upsertAccount } from '../accounts/accounts.repository.js';
import { acceptInvitation, inviteMember } from '../accounts/team.actions.js';
import { insertAuditLogs } from '../audit/audit.repository.js';
import { ANONYMOUS, type Viewer } from '../auth/viewer.js';
import { checkBusinessCreate, createBusiness } from '../businesses/businesses.actions.js';
import { checkCustomerCreate, createCustomer } from '../customers/customers.actions.js';
import { createPartner } from '../partners/partners.actions.js';
import { createService } from '../services/services.actions.js';
import type { Step } from '../shared/mutation.js';
import { toGlobalId } from '../shared/global-id.js';
import type { Trx } from '../shared/transaction.js';
import { demoIdentity } from './demo-accounts.js';
import type { BusinessSpec } from './demo-businesses.js';

const SEED_ACTOR = 'system:seed';

/** A demo business as onboarding left it: its id, and its records' ids by name (customers by e-mail). */
export interface OnboardedBusiness {
  spec: BusinessSpec;
  id: string;
  serviceIds: Map<string, string>;
  partnerIds: Map<string, string>;
  customerIds: Map<string, string>;
}

/** The demo owner's account, as a token of it would arrive before its account exists. */
function ownerViewer(spec: BusinessSpec): Viewer {
  const identity = demoIdentity('owner', spec.slug);
  return { ...ANONYMOUS, role: 'ACCOUNT', subject: identity.subject, issuer: identity.issuer, email: identity.email, name: identity.name };
}

/**
 * Onboards the demo businesses through the steps of businessCreate (the demo owner's account becomes
 * the owner), serviceCreate, partnerCreate (each partner performs every service, as partnerCreate
 * without `serviceIds` decides), customerCreate, and memberInvite and invitationAccept (the demo
 * staff and partner accounts join): their checks run on every first start, inside the
 * seed's transaction. A spec the checks refuse aborts the seed with their user error. The steps'
 * audit rows are written at the end, in one statement; their changes are not published, as nothing
 * can have cached a business that did not exist.
 */
export async function onboardDemoBusinesses(trx: Trx, specs: BusinessSpec[]): Promise<OnboardedBusiness[]> {
  const audit: NonNullable<Step<unknown>['audit']> = [];
  const done = <T>(step: Step<T>): T => {
    audit.push(...(step.audit ?? []));
    return step.value;
  };
  const onboarded: OnboardedBusiness[] = [];
  for (const spec of specs) {
    const draft = checkBusinessCreate({
      slug: spec.slug,
      name: spec.name,
      kind: spec.kind.toUpperCase() as BusinessKind,
      city: spec.city,
      timeZone: spec.timeZone,
      currency: spec.currency,
    });
    const { id } = done(await createBusiness(trx, ownerViewer(spec), draft));
    const businessId = toGlobalId('Business', id);
    // Services first: a partner created without `serviceIds` performs every service there is.
    const serviceIds = new Map<string, string>();
    for (const s of spec.services) {
      const input = { businessId, name: s.name, durationMinutes: s.minutes, priceCents: s.priceCents, isActive: s.active ?? true };
      serviceIds.set(s.name, done(await createService(trx, id, input, null)).id);
    }
    const partnerIds = new Map<string, string>();
    for (const p of spec.partners) {
      partnerIds.set(p.name, done(await createPartner(trx, id, { businessId, name: p.name, city: p.city, isActive: p.active ?? true }, null)).id);
    }
    const customerIds = new Map<string, string>();
    for (const [name, email] of spec.customers) {
      const input = { businessId, name, email };
      customerIds.set(email, done(await createCustomer(trx, id, input, checkCustomerCreate(input))).id);
    }
    // The team joins as memberInvite and invitationAccept have it: staff, and the first partner as
    // its partner record (the demo staff and partner accounts, whose tokens npm start prints).
    const team = [
      { role: 'STAFF', partnerId: null },
      { role: 'PARTNER', partnerId: toGlobalId('Partner', partnerIds.get(spec.partners[0].name)!) },
    ] as const;
    for (const { role, partnerId } of team) {
      const identity = demoIdentity(role === 'STAFF' ? 'staff' : 'partner', spec.slug);
      const { token } = done(await inviteMember(trx, { businessId: id }, SEED_ACTOR, { businessId, email: identity.email!, role, partnerId }));
      done(await acceptInvitation(trx, await upsertAccount(trx, identity), { token: token! }));
    }
    onboarded.push({ spec, id, serviceIds, partnerIds, customerIds });
  }
  await insertAuditLogs(trx, audit.map((entry) => ({ ...entry, actor: SEED_ACTOR })));
  return onboarded;
}
