import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { addMembership, createAccount } from '../support/accounts.js';
import { auditRows, createBookableBusiness, createBooking, createBusiness, createCustomer, uniqueSuffix, type BuiltBusiness } from '../support/builders.js';

const FIELDS = `id slug name kind city timeZone currency description defaultLocale archivedAt
  slotMinutes minNoticeMinutes maxAdvanceDays cancellationWindowMinutes`;
const CREATE = `mutation($input: BusinessCreateInput!) { businessCreate(input: $input) { business { ${FIELDS} } userErrors { field message code } } }`;
const UPDATE = `mutation($input: BusinessUpdateInput!) { businessUpdate(input: $input) { business { ${FIELDS} } userErrors { field message code } } }`;
const ARCHIVE = `mutation($input: BusinessArchiveInput!) { businessArchive(input: $input) { business { id archivedAt } userErrors { field message code } } }`;

describe('Mutations: businessCreate, businessUpdate, businessArchive', () => {
  let api: TestApi;
  /** A signed-in account that is nobody in particular: a customer of some business. */
  let account: { subject: string; token: string };
  beforeAll(async () => {
    api = await startTestApi();
    const home = await createBusiness(api.db);
    const customer = await createCustomer(api.db, home);
    const subject = `founder-${uniqueSuffix()}`;
    account = { subject, token: await api.token({ sub: subject, role: 'customer', business_id: home.gid, customer_id: customer.gid }) };
  });
  afterAll(() => api.close());

  function newBusiness(overrides: Record<string, unknown> = {}) {
    return { slug: `salon-${uniqueSuffix()}`, name: '  Salon Lumière ', kind: 'SALON', city: 'Paris', timeZone: 'Europe/Paris', currency: 'EUR', ...overrides };
  }

  async function staffOf(businessGid: string) {
    return (await tokensFor(api, { businessGid })).staff;
  }

  /** An account token of a new owner of the business (owners change and archive it; staff may not). */
  async function ownerOf(business: BuiltBusiness) {
    const owner = await createAccount(api);
    await addMembership(api.db, owner, business, 'owner');
    // Its grants are read once and then cached: warm them, so that counts below are the mutation's own.
    await api.gql('{ viewer { admin } }', undefined, { token: owner.token });
    return owner.token;
  }

  it('creates a live business with the defaults, makes the caller’s account its owner and writes one audit row', async () => {
    const input = newBusiness({ description: 'Cuts and colour.', defaultLocale: 'fr' });
    const { statements, result } = await api.countStatements(() => mutateOk(api, CREATE, input, account.token));
    expect(result.business).toEqual({
      id: expect.any(String), slug: input.slug, name: 'Salon Lumière', kind: 'SALON', city: 'Paris', timeZone: 'Europe/Paris', currency: 'EUR',
      description: 'Cuts and colour.', defaultLocale: 'fr', archivedAt: null, slotMinutes: 30, minNoticeMinutes: 60, maxAdvanceDays: 60, cancellationWindowMinutes: 1440,
    });
    // BEGIN, insertBusiness, upsertAccount, insertMembership, audit, COMMIT (the payload is the returned row).
    expect(statements).toBe(6);
    const id = Buffer.from(result.business.id, 'base64url').toString().split(':')[1];
    const owners = await sql<{ role: string; subject: string }>`
      SELECT m.role, a.subject FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.business_id = ${id}::bigint AND m.removed_at IS NULL`.execute(api.db);
    expect(owners.rows).toEqual([{ role: 'owner', subject: account.subject }]);
    expect(await auditRows(api.db, id, 'business')).toEqual([
      expect.objectContaining({ businessId: id, action: 'business.created', actor: `customer:${account.subject}` }),
    ]);
    const read = await api.gql(`query($slug: String!) { business(slug: $slug) { id } }`, { slug: input.slug });
    expect(read.data.business).toEqual({ id: result.business.id });
  });

  it('lets the account token of a new account, with no membership and no customer record yet, create a business and own it', async () => {
    const subject = `newcomer-${uniqueSuffix()}`;
    const token = await api.token({ sub: subject, email: `${subject}@example.com`, name: 'New Comer' });
    const payload = await mutateOk(api, CREATE, newBusiness(), token);
    const viewer = await api.gql('{ viewer { role memberships { role business { id } } customerRecords { id } } }', {}, { token });
    expect(viewer.data.viewer).toEqual({ role: 'ACCOUNT', memberships: [{ role: 'OWNER', business: { id: payload.business.id } }], customerRecords: [] });
  });

  it('takes booking settings, and reuses the account of a caller who already has one', async () => {
    const input = newBusiness({ settings: { slotMinutes: 15, minNoticeMinutes: 0, maxAdvanceDays: 365, cancellationWindowMinutes: 120 } });
    const payload = await mutateOk(api, CREATE, input, account.token);
    expect(payload.business).toMatchObject({ slotMinutes: 15, minNoticeMinutes: 0, maxAdvanceDays: 365, cancellationWindowMinutes: 120 });
    const accounts = await sql<{ n: number }>`SELECT count(*)::int AS n FROM accounts WHERE subject = ${account.subject}`.execute(api.db);
    expect(accounts.rows[0].n).toBe(1);
  });

  it('accepts time zones Intl lists only by another name, such as UTC and Asia/Kolkata', async () => {
    for (const timeZone of ['UTC', 'Asia/Kolkata']) {
      const payload = await mutateOk(api, CREATE, newBusiness({ timeZone }), account.token);
      expect(payload.business.timeZone).toBe(timeZone);
    }
  });

  it('answers SLUG_TAKEN for the slug of a live business, and creates nothing', async () => {
    const taken = await createBusiness(api.db);
    const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM businesses`.execute(api.db);
    const res = await api.gql(CREATE, { input: newBusiness({ slug: taken.slug }) }, { token: account.token });
    expect(res.data.businessCreate).toEqual({
      business: null,
      userErrors: [{ field: ['input', 'slug'], code: 'SLUG_TAKEN', message: `Expected a slug no live business has, got "${taken.slug}": choose another.` }],
    });
    const after = await sql<{ n: number }>`SELECT count(*)::int AS n FROM businesses`.execute(api.db);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('creates one business when several accounts ask for the same slug at once; the others get SLUG_TAKEN', async () => {
    const slug = `race-${uniqueSuffix()}`;
    const results = await Promise.all([0, 1, 2, 3].map(() => api.gql(CREATE, { input: newBusiness({ slug }) }, { token: account.token })));
    const codes = results.map((res) => res.data.businessCreate.userErrors.map((e: { code: string }) => e.code).join() || 'created').sort();
    expect(codes).toEqual(['SLUG_TAKEN', 'SLUG_TAKEN', 'SLUG_TAKEN', 'created']);
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM businesses WHERE slug = ${slug}`.execute(api.db);
    expect(rows.rows[0].n).toBe(1);
  });

  it('gives the slug of an archived business to a new one', async () => {
    const old = await createBusiness(api.db);
    await mutateOk(api, ARCHIVE, { businessId: old.gid }, await ownerOf(old));
    const payload = await mutateOk(api, CREATE, newBusiness({ slug: old.slug }), account.token);
    expect(payload.business.id).not.toBe(old.gid);
    const read = await api.gql(`query($slug: String!) { business(slug: $slug) { id } }`, { slug: old.slug });
    expect(read.data.business).toEqual({ id: payload.business.id });
  });

  it.each([
    [{ slug: 'Not A Slug' }, ['input', 'slug'], 'Expected `slug` to be lowercase letters and digits in words joined by single hyphens, at most 64 characters, got "Not A Slug".'],
    [{ name: '   ' }, ['input', 'name'], 'Expected `name` to be 1 to 200 characters long, got 0.'],
    [{ timeZone: 'Mars/Olympus' }, ['input', 'timeZone'], 'Expected an IANA time zone such as "Europe/Berlin", got "Mars/Olympus".'],
    [{ timeZone: 'europe/paris' }, ['input', 'timeZone'], 'Expected an IANA time zone such as "Europe/Berlin", got "europe/paris".'],
    [{ currency: 'EURO' }, ['input', 'currency'], 'Expected an ISO 4217 currency code such as "EUR", got "EURO".'],
    [{ defaultLocale: 'english!' }, ['input', 'defaultLocale'], 'Expected a BCP 47 locale such as "en" or "ja", got "english!".'],
    [{ settings: { slotMinutes: 7 } }, ['input', 'settings', 'slotMinutes'], 'Expected `slotMinutes` to divide a day (5, 10, 15, 20, 30, 60, ...), got 7.'],
    [{ settings: { maxAdvanceDays: 0 } }, ['input', 'settings', 'maxAdvanceDays'], 'Expected `maxAdvanceDays` from 1 to 730, got 0.'],
  ])('answers INVALID_INPUT for %j and sends no statement to the database', async (overrides, field, message) => {
    const { result: res, statements } = await api.countStatements(() => api.gql(CREATE, { input: newBusiness(overrides) }, { token: account.token }));
    expect(res.data.businessCreate).toEqual({ business: null, userErrors: [{ field, code: 'INVALID_INPUT', message }] });
    expect(statements).toBe(0);
  });

  it('returns the first business to a retry with the same idempotency key, and creates one', async () => {
    const input = { ...newBusiness(), idempotencyKey: `create-${uniqueSuffix()}` };
    const first = await mutateOk(api, CREATE, input, account.token);
    const second = await mutateOk(api, CREATE, input, account.token);
    expect(second.business.id).toBe(first.business.id);
    const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM businesses WHERE slug = ${input.slug}`.execute(api.db);
    expect(rows.rows[0].n).toBe(1);
  });

  it('refuses an anonymous caller with UNAUTHENTICATED', async () => {
    const res = await api.gql(CREATE, { input: newBusiness() });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('updates the profile and settings for the business’s owner, auditing only what changed', async () => {
    const business = await createBusiness(api.db);
    const slug = `renamed-${uniqueSuffix()}`;
    const input = { businessId: business.gid, slug, name: 'Renamed', description: 'New text.', settings: { minNoticeMinutes: 120 } };
    const owner = await createAccount(api);
    await addMembership(api.db, owner, business, 'owner');
    const token = owner.token;
    await api.gql('{ viewer { admin } }', undefined, { token });
    const counted = await api.countStatements(() => mutateOk(api, UPDATE, input, token));
    expect(counted.result.business).toMatchObject({ id: business.gid, slug, name: 'Renamed', description: 'New text.', minNoticeMinutes: 120, slotMinutes: 30, timeZone: business.timeZone });
    // BEGIN, lockLiveBusinessById, isSlugTaken, updateBusiness, audit, COMMIT, and the availability
    // invalidation's findCitiesOfPartners.
    expect(counted.statements).toBe(7);
    expect(await auditRows(api.db, business.id, 'business')).toEqual([
      { businessId: business.id, entity: 'business', action: 'business.updated', actor: `account:${owner.id}`,
        changes: { before: { slug: business.slug, name: `Business ${business.slug}`, description: null, minNoticeMinutes: 60 }, after: { slug, name: 'Renamed', description: 'New text.', minNoticeMinutes: 120 } } },
    ]);
    // The empty string removes the description; asking for the current values writes nothing.
    const cleared = await mutateOk(api, UPDATE, { businessId: business.gid, description: '' }, token);
    expect(cleared.business.description).toBeNull();
    await mutateOk(api, UPDATE, { businessId: business.gid, name: 'Renamed' }, token);
    expect(await auditRows(api.db, business.id, 'business')).toHaveLength(2);
  });

  it('answers SLUG_TAKEN when updating to the slug of another live business', async () => {
    const [business, other] = [await createBusiness(api.db), await createBusiness(api.db)];
    const res = await api.gql(UPDATE, { input: { businessId: business.gid, slug: other.slug } }, { token: await ownerOf(business) });
    expect(res.data.businessUpdate).toMatchObject({ business: null, userErrors: [{ field: ['input', 'slug'], code: 'SLUG_TAKEN' }] });
  });

  it('refuses a slot length that does not divide a live service’s length', async () => {
    const { business } = await createBookableBusiness(api.db, { durationMinutes: 30 });
    const res = await api.gql(UPDATE, { input: { businessId: business.gid, settings: { slotMinutes: 20 } } }, { token: await ownerOf(business) });
    expect(res.data.businessUpdate).toEqual({
      business: null,
      userErrors: [{ field: ['input', 'settings', 'slotMinutes'], code: 'INVALID_INPUT', message: "Expected `slotMinutes` to divide every live service's length, got 20 for a service of 30 minutes." }],
    });
  });

  it('refuses its own staff, an owner of another business, a partner and a customer with FORBIDDEN, and changes nothing', async () => {
    const { business, partners, customer } = await createBookableBusiness(api.db);
    const other = await createBusiness(api.db);
    const own = await tokensFor(api, { businessGid: business.gid, partnerGid: partners[0].gid, customerGid: customer.gid });
    for (const token of [own.staff, await ownerOf(other), own.partner, own.customer]) {
      for (const [operation, input] of [[UPDATE, { businessId: business.gid, name: 'Taken over' }], [ARCHIVE, { businessId: business.gid }]] as const) {
        const res = await api.gql(operation, { input }, { token });
        expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
      }
    }
    const res = await api.gql(UPDATE, { input: { businessId: business.gid, name: 'x' } });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    expect(await auditRows(api.db, business.id, 'business')).toEqual([]);
  });

  it('answers NOT_FOUND to an admin for a malformed or missing business', async () => {
    const { admin } = await tokensFor(api, { businessGid: toGlobalId('Business', '1') });
    for (const businessId of ['nope', toGlobalId('Business', '9000000000000000000')]) {
      const res = await api.gql(UPDATE, { input: { businessId, name: 'x' } }, { token: admin });
      expect(res.data.businessUpdate).toEqual({ business: null, userErrors: [{ field: ['input', 'businessId'], code: 'NOT_FOUND', message: `Expected the ID of a live business you may manage, got "${businessId}".` }] });
    }
  });

  it('archives a business: out of the catalog, no availability, its bookings still read it', async () => {
    const built = await createBookableBusiness(api.db);
    const booking = await createBooking(api.db, { ...built, partner: built.partners[0], slots: built.partners[0].slots.slice(0, 1), status: 'completed' });
    const token = await ownerOf(built.business);
    const { result, statements } = await api.countStatements(() => mutateOk(api, ARCHIVE, { businessId: built.business.gid }, token));
    expect(result.business).toEqual({ id: built.business.gid, archivedAt: expect.any(String) });
    // BEGIN, lockLiveBusinessById, hasFutureLiveBookings, archiveBusiness, audit, COMMIT, findCitiesOfPartners.
    expect(statements).toBe(7);
    const read = await api.gql(
      `query($slug: String!, $booking: ID!, $business: ID!, $service: ID!, $date: Date!) {
        business(slug: $slug) { id }
        node(id: $booking) { ... on Booking { business { id archivedAt } } }
        availableSlots(businessId: $business, serviceId: $service, date: $date) { startsAt }
      }`,
      { slug: built.business.slug, booking: booking.gid, business: built.business.gid, service: built.service.gid, date: built.start.toISOString().slice(0, 10) },
      { token },
    );
    expect(read.errors).toBeUndefined();
    expect(read.data).toEqual({ business: null, node: { business: { id: built.business.gid, archivedAt: result.business.archivedAt } }, availableSlots: [] });
    // Archived is final: a second archive or an update reads NOT_FOUND.
    const again = await api.gql(ARCHIVE, { input: { businessId: built.business.gid } }, { token });
    expect(again.data.businessArchive.userErrors.map((e: { code: string }) => e.code)).toEqual(['NOT_FOUND']);
  });

  it('refuses to archive a business with a pending or confirmed booking ahead', async () => {
    const built = await createBookableBusiness(api.db);
    await createBooking(api.db, { ...built, partner: built.partners[0], slots: built.partners[0].slots.slice(0, 1), status: 'confirmed' });
    const res = await api.gql(ARCHIVE, { input: { businessId: built.business.gid } }, { token: await ownerOf(built.business) });
    expect(res.data.businessArchive).toEqual({
      business: null,
      userErrors: [{ field: ['input', 'businessId'], code: 'HAS_FUTURE_BOOKINGS', message: 'Expected a business without pending or confirmed bookings ahead, got one with some: cancel them first.' }],
    });
    const row = await sql<{ deleted_at: string | null }>`SELECT deleted_at FROM businesses WHERE id = ${built.business.id}::bigint`.execute(api.db);
    expect(row.rows[0].deleted_at).toBeNull();
  });
});
