import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startTestApi, type TestApi } from '../support/api.js';
import { addMembership, createAccount, linkCustomer } from '../support/accounts.js';
import { createBookableBusiness, createBooking, createCustomer, createPartner, createSlots, type BuiltCustomer, type BuiltPartner } from '../support/builders.js';

const VIEWER = `{ viewer {
  role subject email name admin
  memberships { id role business { slug } partner { name } }
  customerRecords { email business { slug } }
  business { slug }
} }`;
const BOOKINGS = `query($slug: String!) { business(slug: $slug) { bookings(first: 20) { nodes { id partner { id } customer { id } } } } }`;
const CUSTOMERS = `query($slug: String!) { business(slug: $slug) { customers(first: 20) { nodes { id } } } }`;

/**
 * Accounts: one person, an owner of business A, a partner in business B and a customer of business
 * C, through one account token; what it reaches is the OR of those grants, and nothing else.
 */
describe('Accounts: what an account token may do comes from its memberships and customer records', () => {
  let api: TestApi;
  let a: Awaited<ReturnType<typeof createBookableBusiness>>;
  let b: Awaited<ReturnType<typeof createBookableBusiness>>;
  let c: Awaited<ReturnType<typeof createBookableBusiness>>;
  let person: Awaited<ReturnType<typeof createAccount>>;
  let otherPartnerOfB: BuiltPartner;
  let otherCustomerOfC: BuiltCustomer;
  /** A booking of `customer` with `partner` on a slot of its own. */
  const booking = async (built: typeof a, partner: BuiltPartner, customer: BuiltCustomer, day: number) => {
    const [slot] = await createSlots(api.db, built.business, partner, new Date(built.start.getTime() + day * 86_400_000), 1);
    return createBooking(api.db, { business: built.business, service: built.service, partner, customer, slots: [slot] });
  };

  beforeAll(async () => {
    api = await startTestApi();
    [a, b, c] = [await createBookableBusiness(api.db), await createBookableBusiness(api.db), await createBookableBusiness(api.db)];
    person = await createAccount(api);
    await addMembership(api.db, person, a.business, 'owner');
    await addMembership(api.db, person, b.business, 'partner', b.partners[0]);
    await linkCustomer(api.db, person, c.customer);
    otherPartnerOfB = await createPartner(api.db, b.business);
    otherCustomerOfC = await createCustomer(api.db, c.business);
    await booking(a, a.partners[0], a.customer, 1);
    await booking(b, b.partners[0], b.customer, 1);
    await booking(b, otherPartnerOfB, b.customer, 2);
    await booking(c, c.partners[0], c.customer, 1);
    await booking(c, c.partners[0], otherCustomerOfC, 2);
  });
  afterAll(() => api?.close());

  it('shows every membership and customer record of the account in viewer', async () => {
    const res = await api.gql(VIEWER, {}, { token: person.token });
    expect(res.errors).toBeUndefined();
    const viewer = res.data.viewer;
    expect(viewer).toMatchObject({ role: 'ACCOUNT', subject: person.subject, email: person.email, admin: false, business: null });
    expect(viewer.memberships.map((m: any) => [m.role, m.business.slug, m.partner?.name ?? null]).sort()).toEqual(
      [['OWNER', a.business.slug, null], ['PARTNER', b.business.slug, b.partners[0].name]].sort(),
    );
    expect(viewer.customerRecords).toEqual([{ email: c.customer.email, business: { slug: c.business.slug } }]);
  });

  it("sees all of the owned business's bookings, its own as a partner, and its own as a customer", async () => {
    const page = async (slug: string) => ((await api.gql(BOOKINGS, { slug }, { token: person.token })).data.business.bookings.nodes as any[]);
    expect(await page(a.business.slug)).toHaveLength(1);
    expect((await page(b.business.slug)).map((n) => n.partner.id)).toEqual([b.partners[0].gid]);
    expect((await page(c.business.slug)).map((n) => n.customer.id)).toEqual([c.customer.gid]);
  });

  it("lists the customers of the business it owns only, not of those where it is a partner or a customer", async () => {
    const list = async (slug: string) => ((await api.gql(CUSTOMERS, { slug }, { token: person.token })).data.business.customers.nodes as any[]);
    expect(await list(a.business.slug)).toHaveLength(1);
    expect(await list(b.business.slug)).toEqual([]);
    expect(await list(c.business.slug)).toEqual([]);
  });

  it('costs no statement for its grants once they are cached, and one when a change named the account', async () => {
    const warmUp = await api.gql(BOOKINGS, { slug: a.business.slug }, { token: person.token });
    expect(warmUp.errors).toBeUndefined();
    const service = await api.token({ sub: 'staff-a', role: 'staff', business_id: a.business.gid });
    await api.gql(BOOKINGS, { slug: a.business.slug }, { token: service });
    const asService = await api.countStatements(() => api.gql(BOOKINGS, { slug: a.business.slug }, { token: service }));
    const warm = await api.countStatements(() => api.gql(BOOKINGS, { slug: a.business.slug }, { token: person.token }));
    expect(warm.statements).toBe(asService.statements);
    await api.app.changes.publish({ action: 'membership.changed', businessId: a.business.id, partnerIds: [], ranges: [], accountIds: [person.id], availability: false });
    const cold = await api.countStatements(() => api.gql(BOOKINGS, { slug: a.business.slug }, { token: person.token }));
    expect(cold.statements).toBe(asService.statements + 1);
  });

  it('stops a removed membership from working in the next request once the change names the account', async () => {
    const other = await createAccount(api);
    await addMembership(api.db, other, a.business, 'staff');
    expect((await api.gql(CUSTOMERS, { slug: a.business.slug }, { token: other.token })).data.business.customers.nodes).toHaveLength(1);
    await api.db.updateTable('memberships').set({ removed_at: new Date() }).where('account_id', '=', other.id).execute();
    await api.app.changes.publish({ action: 'membership.removed', businessId: a.business.id, partnerIds: [], ranges: [], accountIds: [other.id], availability: false });
    expect((await api.gql(CUSTOMERS, { slug: a.business.slug }, { token: other.token })).data.business.customers.nodes).toEqual([]);
    expect((await api.gql(VIEWER, {}, { token: other.token })).data.viewer.memberships).toEqual([]);
  });

  it('makes one account of one subject, however many tokens it signs in with', async () => {
    const first = await api.token({ sub: 'same-person', email: 'first@accounts.example' });
    const second = await api.token({ sub: 'same-person', name: 'Same Person' });
    await api.gql(VIEWER, {}, { token: first });
    const res = await api.gql(VIEWER, {}, { token: second });
    expect(res.data.viewer).toMatchObject({ email: null, name: 'Same Person' });
    const rows = await api.db.selectFrom('accounts').select(['email', 'name']).where('subject', '=', 'same-person').execute();
    expect(rows).toEqual([{ email: 'first@accounts.example', name: 'Same Person' }]);
  });
});

describe('Accounts: platform admins and service tokens', () => {
  let api: TestApi;
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;
  beforeAll(async () => {
    api = await startTestApi({ config: { auth: { jwtSecret: 'test-secret-for-the-test-suite-only', jwksUrl: undefined, issuer: undefined, audience: undefined, adminSubjects: ['ops-admin', 'https://idp.example|idp-admin'], acceptClaimTokens: false } } });
    built = await createBookableBusiness(api.db);
  });
  afterAll(() => api?.close());

  it('makes an account named by AUTH_ADMIN_SUBJECTS, by subject or by issuer|subject, a platform admin', async () => {
    const bySubject = await api.token({ sub: 'ops-admin' });
    const byIssuer = await api.token({ sub: 'idp-admin', iss: 'https://idp.example' });
    const otherIssuer = await api.token({ sub: 'idp-admin', iss: 'https://other.example' });
    const customers = async (token: string) => (await api.gql(CUSTOMERS, { slug: built.business.slug }, { token })).data.business.customers.nodes;
    expect(await customers(bySubject)).toHaveLength(1);
    expect(await customers(byIssuer)).toHaveLength(1);
    expect(await customers(otherIssuer)).toEqual([]);
    expect((await api.gql('{ viewer { role admin } }', {}, { token: byIssuer })).data.viewer).toEqual({ role: 'ADMIN', admin: true });
  });

  it('refuses service tokens with UNAUTHENTICATED when AUTH_ACCEPT_CLAIM_TOKENS is off', async () => {
    const staff = await api.token({ sub: 'staff-1', role: 'staff', business_id: built.business.gid });
    const res = await api.gql('{ viewer { role } }', {}, { token: staff });
    expect(res.status).toBe(401);
    expect(res.errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });
    expect(res.errors?.[0].message).toMatch(/AUTH_ACCEPT_CLAIM_TOKENS/);
  });

  it('reads AUTH_ADMIN_SUBJECTS and AUTH_ACCEPT_CLAIM_TOKENS, service tokens off in production by default', () => {
    expect(loadConfig({ AUTH_ADMIN_SUBJECTS: ' ops , https://idp.example|root ' }).auth).toMatchObject({ adminSubjects: ['ops', 'https://idp.example|root'], acceptClaimTokens: true });
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 'x'.repeat(32) }).auth.acceptClaimTokens).toBe(false);
    expect(() => loadConfig({ AUTH_ADMIN_SUBJECTS: 'a|b|c' })).toThrow('Expected AUTH_ADMIN_SUBJECTS to be comma-separated subjects or issuer|subject pairs, got "a|b|c".');
  });
});
