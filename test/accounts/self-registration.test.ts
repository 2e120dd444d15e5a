import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi, loggedErrors } from '../support/api.js';
import { createAccount } from '../support/accounts.js';
import { auditRows, createBookableBusiness, createCustomer } from '../support/builders.js';
import { onRealPostgres } from '../support/database.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id customer { id email name } } userErrors { field message code } } }`;
const HOLD = `mutation($input: SlotHoldInput!) { slotHold(input: $input) { hold { id } userErrors { field message code } } }`;
const RECORDS = `{ viewer { customerRecords { id email business { slug } } } }`;

const customersOf = (api: TestApi, businessId: string) =>
  sql<{ id: string; email: string; name: string; account_id: string | null }>`SELECT id, email, name, account_id FROM customers WHERE business_id = ${businessId}::bigint ORDER BY id`.execute(api.db).then((r) => r.rows);

describe('Customers: self-registration by booking', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api?.close());

  it("gives an account that books where it is no customer a record from its token's e-mail and name, in the booking's transaction", async () => {
    const built = await createBookableBusiness(api.db, { slotCount: 4 });
    const account = await createAccount(api, { name: 'Ada Lovelace' });
    const res = await api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[0].gid] } }, { token: account.token });
    expect(res.errors).toBeUndefined();
    expect(res.data.bookingCreate.userErrors).toEqual([]);
    expect(res.data.bookingCreate.booking.customer).toMatchObject({ email: account.email, name: 'Ada Lovelace' });
    const rows = (await customersOf(api, built.business.id)).filter((c) => c.account_id === account.id);
    expect(rows).toHaveLength(1);
    expect((await auditRows(api.db, rows[0].id, 'customer')).map((r: any) => r.action)).toEqual(['customer.registered']);
    // The next request knows the record; a second booking uses it.
    expect((await api.gql(RECORDS, {}, { token: account.token })).data.viewer.customerRecords).toEqual([{ id: res.data.bookingCreate.booking.customer.id, email: account.email, business: { slug: built.business.slug } }]);
    // A customer there, nothing more: its own booking only, no customer list.
    const seen = await api.gql(`query($slug: String!) { business(slug: $slug) { bookings(first: 10) { nodes { id } } customers(first: 10) { nodes { id } } } }`, { slug: built.business.slug }, { token: account.token });
    expect(seen.data.business).toEqual({ bookings: { nodes: [{ id: res.data.bookingCreate.booking.id }] }, customers: { nodes: [] } });
    const again = await api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[2].gid] } }, { token: account.token });
    expect(again.data.bookingCreate.booking.customer.id).toBe(res.data.bookingCreate.booking.customer.id);
    expect((await customersOf(api, built.business.id)).filter((c) => c.account_id === account.id)).toHaveLength(1);
  });

  it('registers through slotHold too, and a refused booking registers no one', async () => {
    const built = await createBookableBusiness(api.db, { slotCount: 4 });
    const holder = await createAccount(api);
    expect((await api.gql(HOLD, { input: { slotIds: [built.partners[0].slots[0].gid] } }, { token: holder.token })).data.slotHold.userErrors).toEqual([]);
    expect((await customersOf(api, built.business.id)).filter((c) => c.account_id === holder.id)).toHaveLength(1);
    const late = await createAccount(api);
    const refused = await api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[0].gid] } }, { token: late.token });
    expect(refused.data.bookingCreate.userErrors).toEqual([expect.objectContaining({ code: 'SLOT_UNAVAILABLE' })]);
    expect((await customersOf(api, built.business.id)).filter((c) => c.account_id === late.id)).toEqual([]);
  });

  it("refuses a token without an e-mail, and does not take over another customer's record with the same e-mail", async () => {
    const built = await createBookableBusiness(api.db, { slotCount: 4 });
    const anonymousEmail = await api.token({ sub: `no-email-${Date.now()}` });
    const noEmail = await api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[0].gid] } }, { token: anonymousEmail });
    expect(noEmail.data.bookingCreate.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('`email` claim') })]);
    const existing = await createCustomer(api.db, built.business, { email: `taken-${Date.now()}@example.com` });
    const impostor = await createAccount(api, { email: existing.email });
    const res = await api.gql(CREATE, { input: { slotIds: [built.partners[0].slots[0].gid] } }, { token: impostor.token });
    expect(res.data.bookingCreate.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('not linked to this account') })]);
    expect((await customersOf(api, built.business.id)).map((c) => c.account_id)).toEqual([null, null]);
  });

  it.skipIf(!onRealPostgres)('creates one customer record for concurrent first bookings of one account', async () => {
    const built = await createBookableBusiness(api.db, { partners: 4, slotCount: 4 });
    const account = await createAccount(api);
    const slots = built.partners.flatMap((p) => p.slots.slice(0, 2));
    const answers = await Promise.all(slots.map((slot) => api.gql(CREATE, { input: { slotIds: [slot.gid] } }, { token: account.token })));
    for (const answer of answers) expect(answer.errors, JSON.stringify([answer.errors, loggedErrors.slice(-3)])).toBeUndefined();
    for (const answer of answers) expect(answer.data.bookingCreate.userErrors).toEqual([]);
    expect(new Set(answers.map((a) => a.data.bookingCreate.booking.customer.id)).size).toBe(1);
    const rows = (await customersOf(api, built.business.id)).filter((c) => c.account_id === account.id);
    expect(rows).toHaveLength(1);
    expect(await auditRows(api.db, rows[0].id, 'customer')).toHaveLength(1);
  });
});
