import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBusiness, createCustomer, createPartner } from '../support/builders.js';

const SET_ACTIVE = `mutation($input: PartnerSetActiveInput!) {
  partnerSetActive(input: $input) { partner { id name isActive business { id } } userErrors { field message code } }
}`;

describe('Mutation: partnerSetActive', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A business with an active and an inactive partner, and tokens for its roles (the partner is the active one). */
  async function scene() {
    const business = await createBusiness(api.db);
    const active = await createPartner(api.db, business);
    const inactive = await createPartner(api.db, business, { isActive: false });
    const customer = await createCustomer(api.db, business);
    const tokens = await tokensFor(api, { businessGid: business.gid, partnerGid: active.gid, customerGid: customer.gid });
    return { business, active, inactive, tokens };
  }

  /** Everything a refusal must leave alone: the row (xmin moves on any write, even of equal values) and the trail. */
  async function snapshot(partnerId: string) {
    const row = await sql<{ is_active: boolean; xmin: string }>`
      SELECT is_active, xmin::text AS xmin FROM partners WHERE id = ${partnerId}::bigint`.execute(api.db);
    return { row: row.rows[0], audit: await auditRows(api.db, partnerId, 'partner') };
  }

  it('deactivates a partner for staff of its business, returns it inactive and writes one audit row', async () => {
    const s = await scene();
    const res = await api.gql(SET_ACTIVE, { input: { partnerId: s.active.gid, isActive: false } }, { token: s.tokens.staff });
    expect(res.errors).toBeUndefined();
    expect(res.data.partnerSetActive).toEqual({
      partner: { id: s.active.gid, name: s.active.name, isActive: false, business: { id: s.business.gid } },
      userErrors: [],
    });
    expect((await snapshot(s.active.id)).row.is_active).toBe(false);
    expect(await auditRows(api.db, s.active.id, 'partner')).toEqual([
      {
        businessId: s.business.id,
        entity: 'partner',
        action: 'partner.deactivated',
        actor: 'staff:staff-1',
        changes: { before: { isActive: true }, after: { isActive: false } },
      },
    ]);
  });

  it('takes a deactivated partner out of the business’s active partners', async () => {
    const s = await scene();
    await api.gql(SET_ACTIVE, { input: { partnerId: s.active.gid, isActive: false } }, { token: s.tokens.staff });
    const res = await api.gql(`query($slug: String!) { business(slug: $slug) { partners(activeOnly: true) { totalCount } } }`, { slug: s.business.slug });
    expect(res.data.business.partners.totalCount).toBe(0);
  });

  it('activates an inactive partner for an admin and writes one audit row', async () => {
    const s = await scene();
    const res = await api.gql(SET_ACTIVE, { input: { partnerId: s.inactive.gid, isActive: true } }, { token: s.tokens.admin });
    expect(res.data.partnerSetActive).toMatchObject({ partner: { id: s.inactive.gid, isActive: true }, userErrors: [] });
    expect((await snapshot(s.inactive.id)).row.is_active).toBe(true);
    expect(await auditRows(api.db, s.inactive.id, 'partner')).toEqual([
      {
        businessId: s.business.id,
        entity: 'partner',
        action: 'partner.activated',
        actor: 'admin:admin-1',
        changes: { before: { isActive: false }, after: { isActive: true } },
      },
    ]);
  });

  it('succeeds without writing the row or an audit row when the partner already has the value asked for', async () => {
    const s = await scene();
    for (const [partner, isActive] of [[s.active, true], [s.inactive, false]] as const) {
      const before = await snapshot(partner.id);
      const res = await api.gql(SET_ACTIVE, { input: { partnerId: partner.gid, isActive } }, { token: s.tokens.staff });
      expect(res.data.partnerSetActive).toMatchObject({ partner: { id: partner.gid, isActive }, userErrors: [] });
      expect(await snapshot(partner.id)).toEqual(before);
    }
  });

  it('writes one audit row when two simultaneous requests deactivate the same partner', async () => {
    const s = await scene();
    const results = await Promise.all(
      [s.tokens.staff, s.tokens.admin].map((token) => api.gql(SET_ACTIVE, { input: { partnerId: s.active.gid, isActive: false } }, { token })),
    );
    for (const res of results) expect(res.data.partnerSetActive).toMatchObject({ partner: { isActive: false }, userErrors: [] });
    expect(await auditRows(api.db, s.active.id, 'partner')).toHaveLength(1);
  });

  it('answers NOT_FOUND for an ID that is not a partner ID and changes nothing', async () => {
    const s = await scene();
    const before = await snapshot(s.active.id);
    for (const partnerId of ['not-an-id', s.business.gid, toGlobalId('Partner', '0')]) {
      const res = await api.gql(SET_ACTIVE, { input: { partnerId, isActive: false } }, { token: s.tokens.staff });
      expect(res.data.partnerSetActive).toEqual({
        partner: null,
        userErrors: [{ field: ['input', 'partnerId'], code: 'NOT_FOUND', message: `Expected the ID of a partner you may manage, got "${partnerId}".` }],
      });
    }
    expect(await snapshot(s.active.id)).toEqual(before);
  });

  it('answers NOT_FOUND for a partner that does not exist', async () => {
    const s = await scene();
    const partnerId = toGlobalId('Partner', '9000000000000000000');
    const res = await api.gql(SET_ACTIVE, { input: { partnerId, isActive: false } }, { token: s.tokens.admin });
    expect(res.data.partnerSetActive).toMatchObject({ partner: null, userErrors: [{ field: ['input', 'partnerId'], code: 'NOT_FOUND' }] });
    expect(await auditRows(api.db, '9000000000000000000', 'partner')).toEqual([]);
  });

  it('answers NOT_FOUND to staff of another business, exactly as for a missing partner, and changes nothing', async () => {
    const s = await scene();
    const other = await createBusiness(api.db);
    const otherStaff = (await tokensFor(api, { businessGid: other.gid })).staff;
    const before = await snapshot(s.active.id);
    const res = await api.gql(SET_ACTIVE, { input: { partnerId: s.active.gid, isActive: false } }, { token: otherStaff });
    expect(res.data.partnerSetActive).toEqual({
      partner: null,
      userErrors: [{ field: ['input', 'partnerId'], code: 'NOT_FOUND', message: `Expected the ID of a partner you may manage, got "${s.active.gid}".` }],
    });
    expect(await snapshot(s.active.id)).toEqual(before);
  });

  it('refuses a partner, even about themself, with FORBIDDEN and changes nothing', async () => {
    const s = await scene();
    const before = await snapshot(s.active.id);
    const res = await api.gql(SET_ACTIVE, { input: { partnerId: s.active.gid, isActive: false } }, { token: s.tokens.partner });
    expect(res.data).toBeNull();
    expect(res.errors).toMatchObject([
      { message: 'Expected an admin or staff token to activate or deactivate a partner, got a partner token.', extensions: { code: 'FORBIDDEN' } },
    ]);
    expect(await snapshot(s.active.id)).toEqual(before);
  });

  it('refuses a customer with FORBIDDEN and changes nothing', async () => {
    const s = await scene();
    const before = await snapshot(s.active.id);
    const res = await api.gql(SET_ACTIVE, { input: { partnerId: s.active.gid, isActive: false } }, { token: s.tokens.customer });
    expect(res.data).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await snapshot(s.active.id)).toEqual(before);
  });

  it('refuses an anonymous caller with UNAUTHENTICATED and changes nothing', async () => {
    const s = await scene();
    const before = await snapshot(s.active.id);
    const res = await api.gql(SET_ACTIVE, { input: { partnerId: s.active.gid, isActive: false } });
    expect(res.data).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(await snapshot(s.active.id)).toEqual(before);
  });
});
