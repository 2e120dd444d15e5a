import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBookableBusiness, createBusiness, createPartner } from '../support/builders.js';

const FIELDS = 'id name description durationMinutes priceCents currency isActive bufferBeforeMinutes bufferAfterMinutes archivedAt business { id }';
const CREATE = `mutation($input: ServiceCreateInput!) { serviceCreate(input: $input) { service { ${FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation($input: ServiceUpdateInput!) { serviceUpdate(input: $input) { service { ${FIELDS} } userErrors { field message code } } }`;
const ARCHIVE = `mutation($input: ServiceArchiveInput!) { serviceArchive(input: $input) { service { id isActive archivedAt } userErrors { field message code } } }`;
const PARTNER_SERVICES = `query($id: ID!) { node(id: $id) { ... on Partner { services { id } } } }`;

describe('Mutations: serviceCreate, serviceUpdate, serviceArchive', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  async function scene() {
    const built = await createBookableBusiness(api.db, { partners: 2 });
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    return { ...built, tokens };
  }

  async function servicesOf(partnerGid: string): Promise<string[]> {
    const res = await api.gql(PARTNER_SERVICES, { id: partnerGid });
    return res.data.node.services.map((s: { id: string }) => s.id);
  }

  it('adds a service for staff, performed by every live partner when none are named, with one audit row', async () => {
    const s = await scene();
    const input = { businessId: s.business.gid, name: 'Colour', description: 'Full colour.', durationMinutes: 90, priceCents: 8000, bufferAfterMinutes: 15 };
    const { result, statements } = await api.countStatements(() => mutateOk(api, CREATE, input, s.tokens.staff));
    expect(result.service).toEqual({
      id: expect.any(String), name: 'Colour', description: 'Full colour.', durationMinutes: 90, priceCents: 8000, currency: 'EUR', isActive: true,
      bufferBeforeMinutes: 0, bufferAfterMinutes: 15, archivedAt: null, business: { id: s.business.gid },
    });
    // BEGIN, lockLiveBusinessById, insertService, qualifyPartnersForService, audit, COMMIT; then Service.business.
    expect(statements).toBe(7);
    for (const partner of s.partners) expect(await servicesOf(partner.gid)).toContain(result.service.id);
    const id = Buffer.from(result.service.id, 'base64url').toString().split(':')[1];
    expect(await auditRows(api.db, id, 'service')).toEqual([expect.objectContaining({ action: 'service.created', actor: 'staff:staff-1', businessId: s.business.id })]);
  });

  it('qualifies only the partners named, or nobody for an empty list', async () => {
    const s = await scene();
    const named = await mutateOk(api, CREATE, { businessId: s.business.gid, name: 'Named', durationMinutes: 30, priceCents: 100, partnerIds: [s.partners[1].gid] }, s.tokens.admin);
    const nobody = await mutateOk(api, CREATE, { businessId: s.business.gid, name: 'Nobody', durationMinutes: 30, priceCents: 100, partnerIds: [] }, s.tokens.staff);
    expect(await servicesOf(s.partners[0].gid)).not.toContain(named.service.id);
    expect(await servicesOf(s.partners[1].gid)).toContain(named.service.id);
    for (const partner of s.partners) expect(await servicesOf(partner.gid)).not.toContain(nobody.service.id);
  });

  it('answers NOT_FOUND for a partner of another business, and adds nothing', async () => {
    const s = await scene();
    const other = await createBusiness(api.db);
    const stranger = await createPartner(api.db, other);
    const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM services WHERE business_id = ${s.business.id}::bigint`.execute(api.db);
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: 'X', durationMinutes: 30, priceCents: 1, partnerIds: [stranger.gid] } }, { token: s.tokens.staff });
    expect(res.data.serviceCreate).toEqual({
      service: null,
      userErrors: [{ field: ['input', 'partnerIds'], code: 'NOT_FOUND', message: 'Expected the IDs of live partners of the business in `partnerIds`, got some that are not.' }],
    });
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM services WHERE business_id = ${s.business.id}::bigint`.execute(api.db);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it.each([
    [{ durationMinutes: 45 }, ['input', 'durationMinutes'], "Expected `durationMinutes` to be a multiple of the business's 30-minute slots, got 45."],
    [{ durationMinutes: 0 }, ['input', 'durationMinutes'], 'Expected `durationMinutes` from 1 to 1440, got 0.'],
    [{ priceCents: -1 }, ['input', 'priceCents'], 'Expected `priceCents` from 0 to 2147483647, got -1.'],
    [{ bufferBeforeMinutes: 241 }, ['input', 'bufferBeforeMinutes'], 'Expected `bufferBeforeMinutes` from 0 to 240, got 241.'],
    [{ name: '' }, ['input', 'name'], 'Expected `name` to be 1 to 200 characters long, got 0.'],
  ])('answers INVALID_INPUT for %j', async (overrides, field, message) => {
    const s = await scene();
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: 'Cut', durationMinutes: 30, priceCents: 100, ...overrides } }, { token: s.tokens.staff });
    expect(res.data.serviceCreate).toEqual({ service: null, userErrors: [{ field, code: 'INVALID_INPUT', message }] });
  });

  it('refuses staff of another business, a partner and a customer with FORBIDDEN, and an anonymous caller', async () => {
    const s = await scene();
    const otherStaff = (await tokensFor(api, { businessGid: (await createBusiness(api.db)).gid })).staff;
    for (const token of [otherStaff, s.tokens.partner, s.tokens.customer]) {
      const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: 'X', durationMinutes: 30, priceCents: 1 } }, { token });
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, name: 'X', durationMinutes: 30, priceCents: 1 } });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('changes a service, auditing what changed, and the availability offered follows at once', async () => {
    const s = await scene();
    const date = s.start.toISOString().slice(0, 10);
    const AVAILABLE = `query($b: ID!, $s: ID!, $d: Date!) { availableSlots(businessId: $b, serviceId: $s, date: $d) { startsAt } }`;
    const before = await api.gql(AVAILABLE, { b: s.business.gid, s: s.service.gid, d: date });
    expect(before.data.availableSlots).toHaveLength(8);
    const { result, statements } = await api.countStatements(() => mutateOk(api, UPDATE, { serviceId: s.service.gid, durationMinutes: 120, priceCents: 9900 }, s.tokens.staff));
    expect(result.service).toMatchObject({ durationMinutes: 120, priceCents: 9900, name: expect.any(String) });
    // BEGIN, lockLiveServiceById, updateService, audit, COMMIT, findCitiesOfPartners; then Service.business.
    expect(statements).toBe(7);
    const after = await api.gql(AVAILABLE, { b: s.business.gid, s: s.service.gid, d: date });
    expect(after.data.availableSlots).toHaveLength(5);
    expect(await auditRows(api.db, s.service.id, 'service')).toEqual([
      { businessId: s.business.id, entity: 'service', action: 'service.updated', actor: 'staff:staff-1', changes: { before: { durationMinutes: 30, priceCents: 2500 }, after: { durationMinutes: 120, priceCents: 9900 } } },
    ]);
    // The current values again: no write, no audit row.
    await mutateOk(api, UPDATE, { serviceId: s.service.gid, durationMinutes: 120 }, s.tokens.staff);
    expect(await auditRows(api.db, s.service.id, 'service')).toHaveLength(1);
  });

  it('answers NOT_FOUND to staff of another business, a partner and a customer, as for a missing service', async () => {
    const s = await scene();
    const otherStaff = (await tokensFor(api, { businessGid: (await createBusiness(api.db)).gid })).staff;
    for (const serviceId of [s.service.gid, toGlobalId('Service', '9000000000000000000'), 'nope']) {
      for (const token of [otherStaff, s.tokens.partner, s.tokens.customer]) {
        for (const [operation, input] of [[UPDATE, { serviceId, priceCents: 1 }], [ARCHIVE, { serviceId }]] as const) {
          const res = await api.gql(operation, { input }, { token });
          const payload = Object.values(res.data)[0] as { service: unknown; userErrors: unknown };
          expect(payload).toEqual({ service: null, userErrors: [{ field: ['input', 'serviceId'], code: 'NOT_FOUND', message: `Expected the ID of a live service you may manage, got "${serviceId}".` }] });
        }
      }
    }
    const res = await api.gql(ARCHIVE, { input: { serviceId: s.service.gid } });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(await auditRows(api.db, s.service.id, 'service')).toEqual([]);
  });

  it('archives a service: not bookable, out of Business.services, its bookings keep reading it', async () => {
    const s = await scene();
    const { result, statements } = await api.countStatements(() => mutateOk(api, ARCHIVE, { serviceId: s.service.gid }, s.tokens.staff));
    expect(result.service).toEqual({ id: s.service.gid, isActive: false, archivedAt: expect.any(String) });
    // BEGIN, lockLiveServiceById, archiveService, audit, COMMIT, findCitiesOfPartners.
    expect(statements).toBe(6);
    const read = await api.gql(`query($slug: String!, $id: ID!) { business(slug: $slug) { services(includeInactive: true) { totalCount } } node(id: $id) { ... on Service { archivedAt } } }`, { slug: s.business.slug, id: s.service.gid });
    expect(read.data).toEqual({ business: { services: { totalCount: 0 } }, node: { archivedAt: result.service.archivedAt } });
    const booking = await api.gql(`mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { userErrors { code } } }`, { input: { serviceId: s.service.gid, startsAt: s.partners[0].slots[0].startsAt } }, { token: s.tokens.customer });
    expect(booking.data.bookingCreate.userErrors).toEqual([{ code: 'SERVICE_INACTIVE' }]);
    const again = await api.gql(UPDATE, { input: { serviceId: s.service.gid, isActive: true } }, { token: s.tokens.staff });
    expect(again.data.serviceUpdate.userErrors.map((e: { code: string }) => e.code)).toEqual(['NOT_FOUND']);
  });

  it('returns the first service to a retry with the same idempotency key', async () => {
    const s = await scene();
    const input = { businessId: s.business.gid, name: 'Once', durationMinutes: 30, priceCents: 1, idempotencyKey: `svc-${s.business.id}` };
    const [a, b] = [await mutateOk(api, CREATE, input, s.tokens.staff), await mutateOk(api, CREATE, input, s.tokens.staff)];
    expect(b.service.id).toBe(a.service.id);
  });
});
