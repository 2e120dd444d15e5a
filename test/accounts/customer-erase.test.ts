import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createAccount, linkCustomer } from '../support/accounts.js';
import { auditRows, createBookableBusiness, createBooking, createCustomer, createPayment } from '../support/builders.js';

const ERASE = `mutation($input: CustomerEraseInput!) { customerErase(input: $input) { customer { id name email } userErrors { field message code } } }`;
const RECORDS = `{ viewer { customerRecords { id } } }`;

const rowOf = (api: TestApi, id: string) =>
  sql<{ name: string; email: string; account_id: string | null; erased: boolean }>`SELECT name, email, account_id, erased_at IS NOT NULL AS erased FROM customers WHERE id = ${id}::bigint`.execute(api.db).then((r) => r.rows[0]);

describe('Customers: customerErase', () => {
  let api: TestApi;
  let built: Awaited<ReturnType<typeof createBookableBusiness>>;
  let tokens: Awaited<ReturnType<typeof tokensFor>>;
  beforeAll(async () => {
    api = await startTestApi();
    built = await createBookableBusiness(api.db);
    tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
  });
  afterAll(() => api?.close());

  it("erases the customer's own record at their request: data replaced, account link cut, bookings and payments kept, audited without personal data", async () => {
    const account = await createAccount(api);
    const customer = await createCustomer(api.db, built.business, { name: 'Grace Hopper' });
    await linkCustomer(api.db, account, customer);
    const booking = await createBooking(api.db, { business: built.business, service: built.service, partner: built.partners[0], customer, slots: [built.partners[0].slots[0]] });
    await createPayment(api.db, { business: built.business, booking, status: 'succeeded' });
    expect((await api.gql(RECORDS, {}, { token: account.token })).data.viewer.customerRecords).toEqual([{ id: customer.gid }]);

    const res = await api.gql(ERASE, { input: { customerId: customer.gid } }, { token: account.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.customerErase).toEqual({ customer: { id: customer.gid, name: 'Erased customer', email: `erased-${customer.id}@erased.invalid` }, userErrors: [] });
    expect(await rowOf(api, customer.id)).toEqual({ name: 'Erased customer', email: `erased-${customer.id}@erased.invalid`, account_id: null, erased: true });
    const kept = await sql<{ bookings: number; payments: number }>`
      SELECT (SELECT count(*)::int FROM bookings WHERE customer_id = ${customer.id}::bigint) AS bookings,
             (SELECT count(*)::int FROM payments p JOIN bookings b ON b.id = p.booking_id WHERE b.customer_id = ${customer.id}::bigint) AS payments`.execute(api.db);
    expect(kept.rows[0]).toEqual({ bookings: 1, payments: 1 });
    const audit = await auditRows(api.db, customer.id, 'customer');
    expect(audit.map((r: any) => r.action)).toEqual(['customer.erased']);
    expect(JSON.stringify(audit)).not.toContain('Grace');
    expect(JSON.stringify(audit)).not.toContain(customer.email);
    // The link is cut: the account no longer holds the record, from its next request on.
    expect((await api.gql(RECORDS, {}, { token: account.token })).data.viewer.customerRecords).toEqual([]);
  });

  it("lets staff erase a customer of their business, and answers a second erasure with the record unchanged, auditing once", async () => {
    const customer = await createCustomer(api.db, built.business);
    const first = await api.gql(ERASE, { input: { customerId: customer.gid } }, { token: tokens.staff });
    expect(first.data.customerErase.userErrors).toEqual([]);
    const second = await api.gql(ERASE, { input: { customerId: customer.gid } }, { token: tokens.admin });
    expect(second.data.customerErase).toEqual(first.data.customerErase);
    expect(await auditRows(api.db, customer.id, 'customer')).toHaveLength(1);
  });

  it("takes the name and e-mail out of the customer's earlier audit entries, which keep who did what and when", async () => {
    const CREATE = `mutation($input: CustomerCreateInput!) { customerCreate(input: $input) { customer { id } userErrors { code } } }`;
    const UPDATE = `mutation($input: CustomerUpdateInput!) { customerUpdate(input: $input) { customer { id } userErrors { code } } }`;
    const created = await api.gql(CREATE, { input: { businessId: built.business.gid, name: 'Ada Lovelace', email: 'ada@erase.example' } }, { token: tokens.staff });
    const gid = created.data.customerCreate.customer.id as string;
    await api.gql(UPDATE, { input: { customerId: gid, name: 'Ada King' } }, { token: tokens.staff });
    const id = Buffer.from(gid, 'base64url').toString().split(':')[1];
    const before = await auditRows(api.db, id, 'customer');
    expect(JSON.stringify(before)).toContain('Ada King');
    expect((await api.gql(ERASE, { input: { customerId: gid } }, { token: tokens.staff })).data.customerErase.userErrors).toEqual([]);
    const after = await auditRows(api.db, id, 'customer');
    expect(after.map((r: any) => r.action)).toEqual(before.map((r: any) => r.action).concat('customer.erased'));
    expect(JSON.stringify(after)).not.toMatch(/Ada|ada@erase/);
  });

  it("reads another business's, another customer's or a missing customer as NOT_FOUND, refuses a partner, and changes nothing", async () => {
    const other = await createBookableBusiness(api.db);
    const victim = await createCustomer(api.db, built.business);
    const before = await rowOf(api, victim.id);
    const otherStaff = await api.token({ sub: 'staff-other', role: 'staff', business_id: other.business.gid });
    for (const [token, customerId] of [[otherStaff, victim.gid], [tokens.customer!, victim.gid], [tokens.staff, toGlobalId('Customer', '999999999')], [tokens.staff, 'nonsense']] as const) {
      const res = await api.gql(ERASE, { input: { customerId } }, { token });
      expect(res.data.customerErase.userErrors).toEqual([expect.objectContaining({ code: 'NOT_FOUND', field: ['input', 'customerId'] })]);
    }
    expect((await api.gql(ERASE, { input: { customerId: victim.gid } }, { token: tokens.partner })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await api.gql(ERASE, { input: { customerId: victim.gid } })).errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    const stranger = await createAccount(api);
    expect((await api.gql(ERASE, { input: { customerId: victim.gid } }, { token: stranger.token })).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect(await rowOf(api, victim.id)).toEqual(before);
  });
});
