import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { auditRows, createBookableBusiness, createBusiness, createCustomer } from '../support/builders.js';

const CREATE = `mutation($input: CustomerCreateInput!) { customerCreate(input: $input) { customer { id email name business { id } } userErrors { field message code } } }`;
const UPDATE = `mutation($input: CustomerUpdateInput!) { customerUpdate(input: $input) { customer { id email name } userErrors { field message code } } }`;

describe('Mutations: customerCreate, customerUpdate (staff keep customer records)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  async function scene() {
    const built = await createBookableBusiness(api.db);
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    return { ...built, tokens };
  }

  it('adds a customer for staff, who can then be booked for, with one audit row', async () => {
    const s = await scene();
    const { result, statements } = await api.countStatements(() => mutateOk(api, CREATE, { businessId: s.business.gid, email: ' Ada@Example.com ', name: 'Ada Lovelace' }, s.tokens.staff));
    expect(result.customer).toEqual({ id: expect.any(String), email: 'Ada@Example.com', name: 'Ada Lovelace', business: { id: s.business.gid } });
    // BEGIN, lockLiveBusinessById, insertCustomer, audit, COMMIT; then Customer.business.
    expect(statements).toBe(6);
    const id = Buffer.from(result.customer.id, 'base64url').toString().split(':')[1];
    expect(await auditRows(api.db, id, 'customer')).toEqual([
      { businessId: s.business.id, entity: 'customer', action: 'customer.created', actor: 'staff:staff-1', changes: { after: { email: 'Ada@Example.com', name: 'Ada Lovelace' } } },
    ]);
    const booking = await mutateOk(api, `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { customer { id } } userErrors { code } } }`,
      { serviceId: s.service.gid, startsAt: s.partners[0].slots[0].startsAt, customerId: result.customer.id }, s.tokens.staff);
    expect(booking.booking.customer).toEqual({ id: result.customer.id });
  });

  it('answers EMAIL_TAKEN for the address of another live customer in any case, and adds nobody', async () => {
    const s = await scene();
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, email: s.customer.email.toUpperCase(), name: 'Twin' } }, { token: s.tokens.staff });
    expect(res.data.customerCreate).toEqual({
      customer: null,
      userErrors: [{ field: ['input', 'email'], code: 'EMAIL_TAKEN', message: `Expected an e-mail address no other customer of the business has, got "${s.customer.email.toUpperCase()}".` }],
    });
    // Another business may have the same address.
    const other = await createBusiness(api.db);
    const otherStaff = (await tokensFor(api, { businessGid: other.gid })).staff;
    await mutateOk(api, CREATE, { businessId: other.gid, email: s.customer.email, name: 'Elsewhere' }, otherStaff);
  });

  it('creates one customer when staff add the same address at once; the others get EMAIL_TAKEN', async () => {
    const s = await scene();
    const email = `race-${s.business.id}@example.com`;
    const results = await Promise.all(['a', 'b', 'c'].map((n) => api.gql(CREATE, { input: { businessId: s.business.gid, email: n === 'a' ? email : email.toUpperCase(), name: n } }, { token: s.tokens.staff })));
    const codes = results.map((res) => res.data.customerCreate.userErrors.map((e: { code: string }) => e.code).join() || 'created').sort();
    expect(codes).toEqual(['EMAIL_TAKEN', 'EMAIL_TAKEN', 'created']);
  });

  it.each([
    [{ email: 'not-an-address' }, ['input', 'email'], 'Expected an e-mail address such as "ada@example.com" of at most 254 characters, got "not-an-address".'],
    [{ name: ' ' }, ['input', 'name'], 'Expected `name` to be 1 to 200 characters long, got 0.'],
  ])('answers INVALID_INPUT for %j before any statement', async (overrides, field, message) => {
    const s = await scene();
    const { result: res, statements } = await api.countStatements(() => api.gql(CREATE, { input: { businessId: s.business.gid, email: 'ok@example.com', name: 'Ok', ...overrides } }, { token: s.tokens.staff }));
    expect(res.data.customerCreate).toEqual({ customer: null, userErrors: [{ field, code: 'INVALID_INPUT', message }] });
    expect(statements).toBe(0);
  });

  it('refuses staff of another business, a partner and a customer with FORBIDDEN, and an anonymous caller', async () => {
    const s = await scene();
    const otherStaff = (await tokensFor(api, { businessGid: (await createBusiness(api.db)).gid })).staff;
    for (const token of [otherStaff, s.tokens.partner, s.tokens.customer]) {
      const res = await api.gql(CREATE, { input: { businessId: s.business.gid, email: 'x@example.com', name: 'X' } }, { token });
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    const res = await api.gql(CREATE, { input: { businessId: s.business.gid, email: 'x@example.com', name: 'X' } });
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('changes a customer’s name and address for staff, auditing what changed', async () => {
    const s = await scene();
    const { result, statements } = await api.countStatements(() => mutateOk(api, UPDATE, { customerId: s.customer.gid, email: 'new@example.com', name: 'New Name' }, s.tokens.staff));
    expect(result.customer).toEqual({ id: s.customer.gid, email: 'new@example.com', name: 'New Name' });
    // BEGIN, lockLiveCustomerById, isCustomerEmailTaken, updateCustomer, audit, COMMIT.
    expect(statements).toBe(6);
    expect(await auditRows(api.db, s.customer.id, 'customer')).toEqual([
      expect.objectContaining({ action: 'customer.updated', changes: { before: { email: s.customer.email, name: `Customer ${s.customer.email}` }, after: { email: 'new@example.com', name: 'New Name' } } }),
    ]);
    await mutateOk(api, UPDATE, { customerId: s.customer.gid, name: 'New Name' }, s.tokens.admin);
    expect(await auditRows(api.db, s.customer.id, 'customer')).toHaveLength(1);
  });

  it('answers EMAIL_TAKEN when changing to another customer’s address', async () => {
    const s = await scene();
    const other = await createCustomer(api.db, s.business);
    const res = await api.gql(UPDATE, { input: { customerId: s.customer.gid, email: other.email } }, { token: s.tokens.staff });
    expect(res.data.customerUpdate.userErrors.map((e: { code: string }) => e.code)).toEqual(['EMAIL_TAKEN']);
  });

  it('answers NOT_FOUND to staff of another business, a partner and a customer, as for a missing customer', async () => {
    const s = await scene();
    const otherStaff = (await tokensFor(api, { businessGid: (await createBusiness(api.db)).gid })).staff;
    for (const customerId of [s.customer.gid, toGlobalId('Customer', '9000000000000000000'), 'nope']) {
      for (const token of [otherStaff, s.tokens.partner, s.tokens.customer]) {
        const res = await api.gql(UPDATE, { input: { customerId, name: 'x' } }, { token });
        expect(res.data.customerUpdate).toEqual({ customer: null, userErrors: [{ field: ['input', 'customerId'], code: 'NOT_FOUND', message: `Expected the ID of a customer you may manage, got "${customerId}".` }] });
      }
    }
    expect(await auditRows(api.db, s.customer.id, 'customer')).toEqual([]);
  });
});
