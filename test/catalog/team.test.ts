import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBookableBusiness, createBooking, createBusiness, createService } from '../support/builders.js';

const FIELDS = 'id name city isActive archivedAt business { id } services { id }';
const CREATE = `mutation($input: PartnerCreateInput!) { partnerCreate(input: $input) { partner { ${FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation($input: PartnerUpdateInput!) { partnerUpdate(input: $input) { partner { ${FIELDS} } userErrors { field message code } } }`;
const ARCHIVE = `mutation($input: PartnerArchiveInput!) { partnerArchive(input: $input) { partner { id isActive archivedAt } userErrors { field message code } } }`;
const SET_SERVICES = `mutation($input: PartnerServicesSetInput!) { partnerServicesSet(input: $input) { partner { id services { id } } userErrors { field message code } } }`;
const SET_ACTIVE = `mutation($input: PartnerSetActiveInput!) { partnerSetActive(input: $input) { partner { isActive } userErrors { code } } }`;
const AVAILABLE = `query($b: ID!, $s: ID!, $d: Date!) { availableSlots(businessId: $b, serviceId: $s, date: $d) { startsAt partners { id } } }`;
const BOOK = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { partner { id } } userErrors { field message code } } }`;

describe('Mutations: partnerCreate, partnerUpdate, partnerArchive, partnerServicesSet', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A business with a 30-minute service, two partners with slots tomorrow, a customer and tokens. */
  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 2 });
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    return { ...built, tokens, date: built.start.toISOString().slice(0, 10) };
  }

  it('adds a partner for staff, in the business’s city and performing every live service, with one audit row', async () => {
    const s = await scene();
    const { result, statements } = await api.countStatements(() => mutateOk(api, CREATE, { businessId: s.business.gid, name: ' Ada ' }, s.tokens.staff));
    expect(result.partner).toEqual({ id: expect.any(String), name: 'Ada', city: 'Berlin', isActive: true, archivedAt: null, business: { id: s.business.gid }, services: [{ id: s.service.gid }] });
    // BEGIN, lockLiveBusinessById, insertPartner, qualifyPartnerForServices, audit, COMMIT; then Partner.business and Partner.services.
    expect(statements).toBe(8);
    const id = Buffer.from(result.partner.id, 'base64url').toString().split(':')[1];
    expect(await auditRows(api.db, id, 'partner')).toEqual([
      { businessId: s.business.id, entity: 'partner', action: 'partner.created', actor: 'staff:staff-1', changes: { after: { name: 'Ada', city: 'Berlin', isActive: true, serviceIds: [s.service.id] } } },
    ]);
  });

  it('adds a partner performing only the services named, or none', async () => {
    const s = await scene();
    const other = await createService(api.db, s.business, { name: 'Other' });
    const some = await mutateOk(api, CREATE, { businessId: s.business.gid, name: 'Some', city: 'Potsdam', serviceIds: [other.gid] }, s.tokens.admin);
    expect(some.partner).toMatchObject({ city: 'Potsdam', services: [{ id: other.gid }] });
    const none = await mutateOk(api, CREATE, { businessId: s.business.gid, name: 'None', serviceIds: [] }, s.tokens.staff);
    expect(none.partner.services).toEqual([]);
  });

  it('answers NOT_FOUND for a service of another business, and adds nobody', async () => {
    const s = await scene();
    const stranger = await createService(api.db, await createBusiness(api.db));
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: 'X', serviceIds: [stranger.gid] } }, { token: s.tokens.staff });
    expect(res.data.partnerCreate).toEqual({
      partner: null,
      userErrors: [{ field: ['input', 'serviceIds'], code: 'NOT_FOUND', message: "Expected the IDs of live services of the partner's business in `serviceIds`, got some that are not." }],
    });
    const count = await sql<{ n: number }>`SELECT count(*)::int AS n FROM partners WHERE business_id = ${s.business.id}::bigint`.execute(api.db);
    expect(count.rows[0].n).toBe(2);
  });

  it('answers INVALID_INPUT for an empty name', async () => {
    const s = await scene();
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: '' } }, { token: s.tokens.staff });
    expect(res.data.partnerCreate.userErrors).toEqual([{ field: ['input', 'name'], code: 'INVALID_INPUT', message: 'Expected `name` to be 1 to 200 characters long, got 0.' }]);
  });

  it('refuses staff of another business, a partner and a customer with FORBIDDEN, and an anonymous caller', async () => {
    const s = await scene();
    const otherStaff = (await tokensFor(api, { businessGid: (await createBusiness(api.db)).gid })).staff;
    for (const token of [otherStaff, s.tokens.partner, s.tokens.customer]) {
      const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: 'X' } }, { token });
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: 'X' } });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('renames and moves a partner, auditing what changed, and availablePartners follows in both cities', async () => {
    const s = await scene();
    // Of this business: the shared test database has more partners in Berlin than one answer holds.
    const PARTNERS = `query($c: String!, $d: Date!, $b: ID) { availablePartners(city: $c, date: $d, businessId: $b) { id } }`;
    const before = await api.gql(PARTNERS, { c: 'Berlin', d: s.date, b: s.business.gid });
    expect(before.data.availablePartners.map((p: { id: string }) => p.id)).toContain(s.partners[0].gid);
    const { result, statements } = await api.countStatements(() => mutateOk(api, UPDATE, { partnerId: s.partners[0].gid, name: 'Moved', city: 'Hamburg' }, s.tokens.staff));
    expect(result.partner).toMatchObject({ name: 'Moved', city: 'Hamburg' });
    // BEGIN, lockPartnerById, updatePartnerProfile, audit, COMMIT, findCitiesOfPartners; then Partner.business and Partner.services.
    expect(statements).toBe(8);
    const berlin = await api.gql(PARTNERS, { c: 'Berlin', d: s.date, b: s.business.gid });
    expect(berlin.data.availablePartners.map((p: { id: string }) => p.id)).not.toContain(s.partners[0].gid);
    const hamburg = await api.gql(PARTNERS, { c: 'Hamburg', d: s.date, b: s.business.gid });
    expect(hamburg.data.availablePartners.map((p: { id: string }) => p.id)).toContain(s.partners[0].gid);
    expect(await auditRows(api.db, s.partners[0].id, 'partner')).toEqual([
      expect.objectContaining({ action: 'partner.updated', changes: { before: { name: s.partners[0].name, city: 'Berlin' }, after: { name: 'Moved', city: 'Hamburg' } } }),
    ]);
  });

  it('answers NOT_FOUND to staff of another business, a partner and a customer, as for a missing partner', async () => {
    const s = await scene();
    const otherStaff = (await tokensFor(api, { businessGid: (await createBusiness(api.db)).gid })).staff;
    for (const partnerId of [s.partners[1].gid, toGlobalId('Partner', '9000000000000000000')]) {
      for (const token of [otherStaff, s.tokens.partner, s.tokens.customer]) {
        for (const [operation, input] of [[UPDATE, { partnerId, name: 'x' }], [ARCHIVE, { partnerId }], [SET_SERVICES, { partnerId, serviceIds: [] }]] as const) {
          const res = await api.gql(operation, { input }, { token });
          const payload = Object.values(res.data)[0];
          expect(payload).toEqual({ partner: null, userErrors: [{ field: ['input', 'partnerId'], code: 'NOT_FOUND', message: `Expected the ID of a partner you may manage, got "${partnerId}".` }] });
        }
      }
    }
    expect(await auditRows(api.db, s.partners[1].id, 'partner')).toEqual([]);
  });

  it('archives a partner: out of the team list, never offered or bookable, and not to be reactivated', async () => {
    const s = await scene();
    const { result, statements } = await api.countStatements(() => mutateOk(api, ARCHIVE, { partnerId: s.partners[0].gid }, s.tokens.staff));
    expect(result.partner).toEqual({ id: s.partners[0].gid, isActive: false, archivedAt: expect.any(String) });
    // BEGIN, lockPartnerById, hasFutureLiveBookings, archivePartner, audit, COMMIT, findCitiesOfPartners.
    expect(statements).toBe(7);
    const team = await api.gql(`query($slug: String!) { business(slug: $slug) { partners { totalCount nodes { id } } } }`, { slug: s.business.slug });
    expect(team.data.business.partners).toEqual({ totalCount: 1, nodes: [{ id: s.partners[1].gid }] });
    const available = await api.gql(AVAILABLE, { b: s.business.gid, s: s.service.gid, d: s.date });
    expect(available.data.availableSlots.flatMap((a: { partners: { id: string }[] }) => a.partners.map((p) => p.id))).not.toContain(s.partners[0].gid);
    const booking = await api.gql(BOOK, { input: { serviceId: s.service.gid, startsAt: s.partners[0].slots[0].startsAt, partnerId: s.partners[0].gid } }, { token: s.tokens.customer });
    expect(booking.data.bookingCreate.userErrors.map((e: { code: string }) => e.code)).toEqual(['PARTNER_INACTIVE']);
    const reactivate = await api.gql(SET_ACTIVE, { input: { partnerId: s.partners[0].gid, isActive: true } }, { token: s.tokens.staff });
    expect(reactivate.data.partnerSetActive.userErrors).toEqual([{ code: 'NOT_FOUND' }]);
  });

  it('refuses to archive a partner with a pending or confirmed booking ahead', async () => {
    const s = await scene();
    await createBooking(api.db, { ...s, partner: s.partners[0], slots: s.partners[0].slots.slice(0, 1), status: 'pending' });
    const res = await api.gql(ARCHIVE, { input: { partnerId: s.partners[0].gid } }, { token: s.tokens.staff });
    expect(res.data.partnerArchive).toEqual({
      partner: null,
      userErrors: [{ field: ['input', 'partnerId'], code: 'HAS_FUTURE_BOOKINGS', message: `Expected a partner without pending or confirmed bookings ahead, got ${s.partners[0].name} with some: move or cancel them first.` }],
    });
  });

  it('sets the services a partner performs: availability and assignment offer only qualified partners', async () => {
    const s = await scene();
    const before = await api.gql(AVAILABLE, { b: s.business.gid, s: s.service.gid, d: s.date });
    expect(before.data.availableSlots[0].partners).toHaveLength(2);
    const { result, statements } = await api.countStatements(() => mutateOk(api, SET_SERVICES, { partnerId: s.partners[0].gid, serviceIds: [] }, s.tokens.staff));
    expect(result.partner).toEqual({ id: s.partners[0].gid, services: [] });
    // BEGIN, lockPartnerById, replacePartnerServices, audit, COMMIT, findCitiesOfPartners; then Partner.services.
    expect(statements).toBe(7);
    const after = await api.gql(AVAILABLE, { b: s.business.gid, s: s.service.gid, d: s.date });
    for (const start of after.data.availableSlots) expect(start.partners).toEqual([{ id: s.partners[1].gid }]);
    // Named, the partner is refused; unnamed, the qualified one is assigned.
    const named = await api.gql(BOOK, { input: { serviceId: s.service.gid, startsAt: s.partners[0].slots[0].startsAt, partnerId: s.partners[0].gid } }, { token: s.tokens.customer });
    expect(named.data.bookingCreate.userErrors).toEqual([{ field: ['input', 'partnerId'], code: 'NOT_QUALIFIED', message: `${s.partners[0].name} does not perform "${(await serviceName(s.service.id))}".` }]);
    const bySlots = await api.gql(BOOK, { input: { slotIds: [s.partners[0].slots[1].gid] } }, { token: s.tokens.customer });
    expect(bySlots.data.bookingCreate.userErrors.map((e: { code: string }) => e.code)).toEqual(['NOT_QUALIFIED']);
    const assigned = await mutateOk(api, BOOK, { serviceId: s.service.gid, startsAt: s.partners[0].slots[0].startsAt }, s.tokens.customer);
    expect(assigned.booking.partner).toEqual({ id: s.partners[1].gid });
    expect(await auditRows(api.db, s.partners[0].id, 'partner')).toEqual([
      expect.objectContaining({ action: 'partner.services_set', changes: { added: [], removed: [s.service.id] } }),
    ]);
    // The same set again writes nothing.
    await mutateOk(api, SET_SERVICES, { partnerId: s.partners[0].gid, serviceIds: [] }, s.tokens.staff);
    expect(await auditRows(api.db, s.partners[0].id, 'partner')).toHaveLength(1);
    // And back: offered again.
    await mutateOk(api, SET_SERVICES, { partnerId: s.partners[0].gid, serviceIds: [s.service.gid] }, s.tokens.staff);
    const again = await api.gql(AVAILABLE, { b: s.business.gid, s: s.service.gid, d: s.date });
    expect(again.data.availableSlots.at(-1).partners.map((p: { id: string }) => p.id)).toContain(s.partners[0].gid);
  });

  it('answers NOT_FOUND for a service of another business or an archived one, and changes nothing', async () => {
    const s = await scene();
    const stranger = await createService(api.db, await createBusiness(api.db));
    for (const serviceIds of [[stranger.gid], [s.service.gid, 'nope']]) {
      const res = await api.gql(SET_SERVICES, { input: { partnerId: s.partners[0].gid, serviceIds } }, { token: s.tokens.staff });
      expect(res.data.partnerServicesSet.partner).toBeNull();
      expect(res.data.partnerServicesSet.userErrors.map((e: { field: string[]; code: string }) => [e.field, e.code])).toEqual([[['input', 'serviceIds'], 'NOT_FOUND']]);
    }
    const res = await api.gql(`query($id: ID!) { node(id: $id) { ... on Partner { services { id } } } }`, { id: s.partners[0].gid });
    expect(res.data.node.services).toEqual([{ id: s.service.gid }]);
  });

  async function serviceName(id: string): Promise<string> {
    return (await sql<{ name: string }>`SELECT name FROM services WHERE id = ${id}::bigint`.execute(api.db)).rows[0].name;
  }
});
