import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { addMembership, createAccount, linkCustomer, type BuiltAccount } from '../support/accounts.js';
import { createBookableBusiness, createBooking, createCustomer, createPartner } from '../support/builders.js';

const PAGE = `query($slug: String!) { business(slug: $slug) { bookings(first: 20) { nodes { id status partner { name } customer { name } service { name } } } } }`;
const VIEWER = `{ viewer { memberships { role business { slug } partner { name } } customerRecords { name business { slug } } } }`;
const INVITE = `mutation($input: MemberInviteInput!) { memberInvite(input: $input) { token userErrors { code } } }`;
const ACCEPT = `mutation($input: InvitationAcceptInput!) { invitationAccept(input: $input) { membership { id } userErrors { code } } }`;
const ROLE_SET = `mutation($input: MembershipRoleSetInput!) { membershipRoleSet(input: $input) { membership { role } userErrors { code } } }`;
const REMOVE = `mutation($input: MembershipRemoveInput!) { membershipRemove(input: $input) { removedMembershipId userErrors { code } } }`;
const ERASE = `mutation($input: CustomerEraseInput!) { customerErase(input: $input) { customer { id } userErrors { code } } }`;
const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`;

/**
 * Statement counts of what accounts add: the grants cost one statement when cold and none when
 * warm, whatever the request; the viewer's grants list without statements of their own; each team
 * mutation has a fixed count. Counted per request (api.countStatements), run one at a time.
 */
describe('Accounts: statement counts', () => {
  let api: TestApi;
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;
  let owner: BuiltAccount;
  const counts: Record<string, number> = {};
  const count = async (name: string, work: () => Promise<{ errors?: unknown; data?: any }>) => {
    const { result, statements } = await api.countStatements(work);
    expect(result.errors, name).toBeUndefined();
    const payload = Object.values(result.data ?? {})[0] as { userErrors?: unknown[] } | null;
    if (payload && 'userErrors' in payload) expect(payload.userErrors, name).toEqual([]);
    counts[name] = statements;
    return result;
  };
  /** Drops the account's cached grants, as any change naming it does. */
  const chill = (account: { id: string }) => api.app.changes.publish({ action: 'test.cold', businessId: built.business.id, partnerIds: [], ranges: [], accountIds: [account.id], availability: false });

  beforeAll(async () => {
    api = await startTestApi();
    built = await createBookableBusiness(api.db, { slotCount: 13 });
    owner = await createAccount(api);
    await addMembership(api.db, owner, built.business, 'owner');
    for (let i = 0; i < 10; i++) await createBooking(api.db, { business: built.business, service: built.service, partner: built.partners[0], customer: built.customer, slots: [built.partners[0].slots[i]] });
  });
  afterAll(() => {
    console.log(`statement counts: ${JSON.stringify(counts)}`);
    return api?.close();
  });

  it('serves a nested page to a warm account in as many statements as to a service token, and in one more when cold', async () => {
    const staff = await api.token({ sub: 'staff-counts', role: 'staff', business_id: built.business.gid });
    await api.gql(PAGE, { slug: built.business.slug }, { token: staff });
    await count('page: service token', () => api.gql(PAGE, { slug: built.business.slug }, { token: staff }));
    await chill(owner);
    await count('page: account, cold', () => api.gql(PAGE, { slug: built.business.slug }, { token: owner.token }));
    await count('page: account, warm', () => api.gql(PAGE, { slug: built.business.slug }, { token: owner.token }));
    expect(counts['page: account, warm']).toBe(counts['page: service token']);
    expect(counts['page: account, cold']).toBe(counts['page: service token'] + 1);
  });

  it('lists memberships and customer records in three businesses in a constant number of statements', async () => {
    const person = await createAccount(api);
    for (let i = 0; i < 3; i++) {
      const other = await createBookableBusiness(api.db);
      await addMembership(api.db, person, other.business, i === 0 ? 'owner' : 'partner', other.partners[0]);
      await linkCustomer(api.db, person, await createCustomer(api.db, other.business));
    }
    await api.gql(VIEWER, {}, { token: person.token });
    const res = await count('viewer: 3 memberships, 3 customer records, warm', () => api.gql(VIEWER, {}, { token: person.token }));
    expect(res.data.viewer.memberships).toHaveLength(3);
    // Customers in one batched statement; the businesses and partners (one batched statement each
    // when cold) are the catalog cache's by now.
    expect(counts['viewer: 3 memberships, 3 customer records, warm']).toBe(1);
  });

  it('runs each new mutation in a fixed number of statements, cold and warm', async () => {
    const invitee = await createAccount(api);
    await api.gql(VIEWER, {}, { token: owner.token });
    const invited = await count('memberInvite (STAFF), warm', () => api.gql(INVITE, { input: { businessId: built.business.gid, email: invitee.email, role: 'STAFF' } }, { token: owner.token }));
    await chill(owner);
    await count('memberInvite (STAFF), cold', () => api.gql(INVITE, { input: { businessId: built.business.gid, email: 'b@example.com', role: 'STAFF' } }, { token: owner.token }));
    const partner = await createPartner(api.db, built.business);
    await count('memberInvite (PARTNER), warm', () => api.gql(INVITE, { input: { businessId: built.business.gid, email: 'p@example.com', role: 'PARTNER', partnerId: partner.gid } }, { token: owner.token }));
    await chill(invitee);
    const accepted = await count('invitationAccept, cold', () => api.gql(ACCEPT, { input: { token: invited.data.memberInvite.token } }, { token: invitee.token }));
    const membershipId = accepted.data.invitationAccept.membership.id;
    await count('membershipRoleSet (STAFF to PARTNER), warm', () => api.gql(ROLE_SET, { input: { membershipId, role: 'PARTNER', partnerId: (built.partners[0]).gid } }, { token: owner.token }));
    await count('membershipRemove (partner), warm', () => api.gql(REMOVE, { input: { membershipId } }, { token: owner.token }));

    const customer = await createCustomer(api.db, built.business);
    await count('customerErase (by owner), warm', () => api.gql(ERASE, { input: { customerId: customer.gid } }, { token: owner.token }));

    const booker = await createAccount(api);
    await api.gql(VIEWER, {}, { token: booker.token });
    await count('bookingCreate, registering the account', () => api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[10].gid] } }, { token: booker.token }));
    await api.gql(VIEWER, {}, { token: booker.token });
    await count('bookingCreate, registered account, warm', () => api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[11].gid] } }, { token: booker.token }));
    const customerToken = await api.token({ sub: 'customer-counts', role: 'customer', business_id: built.business.gid, customer_id: built.customer.gid });
    await count('bookingCreate, customer service token', () => api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[12].gid] } }, { token: customerToken }));

    expect(counts).toMatchObject({
      'memberInvite (STAFF), warm': 4,
      'memberInvite (STAFF), cold': 5,
      'memberInvite (PARTNER), warm': 6,
      'invitationAccept, cold': 8,
      'membershipRoleSet (STAFF to PARTNER), warm': 8,
      'membershipRemove (partner), warm': 6,
      // BEGIN, lock, erase, redact the customer's earlier audit entries, audit, COMMIT.
      'customerErase (by owner), warm': 6,
    });
    // An account names no customer: the claim's business is read first (one statement more than a
    // service token's); registering adds the account lock, the e-mail check and the upsert.
    expect(counts['bookingCreate, registered account, warm']).toBe(counts['bookingCreate, customer service token'] + 1);
    expect(counts['bookingCreate, registering the account']).toBe(counts['bookingCreate, registered account, warm'] + 2);
  });
});
