import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import { demoAccountToken, seedDemoAccounts } from '../../src/seed/demo-accounts.js';
import { seedDemoData, type DemoSummary } from '../../src/seed/demo-data.js';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, TEST_JWT_SECRET, type TestApi } from '../support/api.js';

const VIEWER = `{ viewer { role memberships { role business { slug } partner { id } } customerRecords { id } } }`;
const CUSTOMERS = `query($slug: String!) { business(slug: $slug) { customers(first: 1) { nodes { id } } } }`;

/** The tokens `npm start` prints and `npm run token` signs: demo accounts whose grants the demo data holds. */
describe('Demo accounts: tokens per role naming the same partner and customer everywhere', () => {
  let api: TestApi;
  let demo: DemoSummary;
  beforeAll(async () => {
    api = await startTestApi();
    demo = await seedDemoData(api.db);
    await seedDemoAccounts(api.db, demo);
    // Loaded again on every start: nothing changes the second time.
    await seedDemoAccounts(api.db, demo);
  }, 120_000);
  afterAll(() => api?.close());

  it("gives each demo business an owner, staff, the first partner's and the first customer's account", async () => {
    for (const business of demo.businesses) {
      const as = async (role: 'owner' | 'staff' | 'partner' | 'customer') => (await api.gql(VIEWER, {}, { token: await demoAccountToken(TEST_JWT_SECRET, role, business.slug) })).data.viewer;
      expect(await as('owner')).toEqual({ role: 'ACCOUNT', memberships: [{ role: 'OWNER', business: { slug: business.slug }, partner: null }], customerRecords: [] });
      expect((await as('staff')).memberships).toEqual([{ role: 'STAFF', business: { slug: business.slug }, partner: null }]);
      expect((await as('partner')).memberships).toEqual([{ role: 'PARTNER', business: { slug: business.slug }, partner: { id: toGlobalId('Partner', business.partnerIds[0]) } }]);
      expect((await as('customer')).customerRecords).toEqual([{ id: toGlobalId('Customer', business.customerIds[0]) }]);
    }
    const staff = await demoAccountToken(TEST_JWT_SECRET, 'staff', demo.businesses[0].slug);
    expect((await api.gql(CUSTOMERS, { slug: demo.businesses[0].slug }, { token: staff })).data.business.customers.nodes).toHaveLength(1);
  });

  it('signs account tokens: a subject per role and business, no role claim', async () => {
    const claims = decodeJwt(await demoAccountToken(TEST_JWT_SECRET, 'partner', 'glow-studio'));
    expect(claims).toMatchObject({ sub: 'demo-partner-glow-studio', email: 'partner@glow-studio.demo.example' });
    expect(claims.role).toBeUndefined();
  });
});
