import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliver, PAYMENT_CREATE, PAYMENT_REFUND, testProviderOf } from '../payments/payment-scene.js';
import { addMembership, createAccount } from '../support/accounts.js';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { ANONYMOUS, type Viewer } from '../../src/auth/viewer.js';
import type { Route } from '../../src/app.js';
import { BOOKINGS_EXPORT_PATH, bookingsExportRoute, csvCell } from '../../src/stats/bookings-export.http.js';
import { createBooking, createBusiness, createCustomer, createPartner, createService, createSlots, type BuiltBusiness, type BuiltCustomer, type BuiltPartner, type BuiltService, type BuiltSlot } from '../support/builders.js';

/**
 * Business.stats through GraphQL: bookings made, cancelled, paid and refunded through the API reach
 * the daily rollups through the outbox relay, and the dashboard reads them in one statement.
 */

const USER_ERRORS = 'userErrors { field message code }';
const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } ${USER_ERRORS} } }`;
const CANCEL = `mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { id } ${USER_ERRORS} } }`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { id } ${USER_ERRORS} } }`;

const BUCKET = `start end bookings { total pending confirmed cancelled completed noShow } capturedCents refundedCents revenueCents currency
  cancellationRate noShowRate bookedMinutes openMinutes utilisation newCustomers returningCustomerBookings averageLeadTimeMinutes`;
const STATS = `query($slug: String!, $from: Date!, $to: Date!, $granularity: StatsGranularity, $partnerId: ID, $serviceId: ID) {
  business(slug: $slug) { stats(from: $from, to: $to, granularity: $granularity, partnerId: $partnerId, serviceId: $serviceId) {
    from to granularity currency buckets { ${BUCKET} } total { ${BUCKET} } } }
}`;

/** The local date of an instant in a zone. */
function localDate(instant: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(instant));
}

describe('Business.stats: the dashboard from daily rollups', () => {
  let api: TestApi;
  let business: BuiltBusiness;
  let service: BuiltService;
  let partner: BuiltPartner;
  let other: BuiltPartner;
  let customers: BuiltCustomer[];
  let slots: BuiltSlot[];
  let tokens: Awaited<ReturnType<typeof tokensFor>>;
  let day: string;
  let paymentGid: string;

  // The export with pages of 2 rows, for an admin, served beside the API's own routes.
  let pagedExport: Route = async () => false;
  const PAGED_PATH = '/test/paged-bookings.csv';

  const exportUrl = (query: Record<string, string>, path = BOOKINGS_EXPORT_PATH) => `${api.app.url.replace(/\/graphql$/, path)}?${new URLSearchParams(query)}`;
  const exportCsv = async (query: Record<string, string>, token: string | undefined, path = BOOKINGS_EXPORT_PATH) => {
    const res = await fetch(exportUrl(query, path), { headers: token ? { authorization: `Bearer ${token}` } : {} });
    return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
  };

  const stats = async (vars: Record<string, unknown>, token = tokens.staff) => api.gql(STATS, { slug: business.slug, from: day, to: day, ...vars }, { token });

  beforeAll(async () => {
    // Its own database: the relay positions every event of the database it runs on.
    api = await startTestApi({ isolated: true, routes: [(req, res, path) => (path === PAGED_PATH ? pagedExport(req, res, BOOKINGS_EXPORT_PATH) : false)] });
    const admin: Viewer = { ...ANONYMOUS, role: 'ADMIN', subject: 'admin-export', admin: true };
    pagedExport = bookingsExportRoute({ viewerOf: async () => admin, readHandle: async () => api.db, log: { info() {}, error() {} }, pageSize: 2 });
    business = await createBusiness(api.db, { timeZone: 'Europe/Berlin', currency: 'EUR' });
    service = await createService(api.db, business, { durationMinutes: 60, priceCents: 5000 });
    partner = await createPartner(api.db, business);
    other = await createPartner(api.db, business);
    customers = [await createCustomer(api.db, business), await createCustomer(api.db, business)];
    const start = new Date();
    start.setUTCDate(start.getUTCDate() + 3);
    start.setUTCHours(9, 0, 0, 0);
    // 8 slots of 30 minutes each: 240 open minutes for each partner on that day.
    slots = await createSlots(api.db, business, partner, start, 8);
    await createSlots(api.db, business, other, start, 8);
    day = localDate(start.toISOString(), business.timeZone);
    tokens = await tokensFor(api, { businessGid: business.gid, partnerGid: partner.gid, customerGid: customers[0].gid });

    const book = async (customer: BuiltCustomer, slot: BuiltSlot) =>
      (await mutateOk(api, CREATE, { serviceId: service.gid, partnerId: partner.gid, startsAt: slot.startsAt, customerId: customer.gid }, tokens.staff)).booking.id as string;
    const first = await book(customers[0], slots[0]);
    const second = await book(customers[0], slots[2]);
    const third = await book(customers[1], slots[4]);
    await mutateOk(api, CANCEL, { bookingId: second, reason: 'Changed plans' }, tokens.staff);
    await mutateOk(api, RESCHEDULE, { bookingId: third, startsAt: slots[6].startsAt }, tokens.staff);
    const payment = await api.gql(PAYMENT_CREATE, { input: { bookingId: first, provider: 'test' } }, { token: tokens.customer });
    paymentGid = payment.data.paymentCreate.payment.id;
    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: payment.data.paymentCreate.payment.providerTxnId, amountCents: 5000 });
    expect((await deliver(api, event)).status).toBe(200);
    await api.app.relay.kick();
  });

  afterAll(async () => {
    await api?.close();
  });

  it('counts the bookings by status, money, open and booked time, and customers of a day', async () => {
    const res = await stats({});
    expect(res.errors).toBeUndefined();
    const result = res.data.business.stats;
    expect(result).toMatchObject({ from: day, to: day, granularity: 'DAY', currency: 'EUR' });
    expect(result.buckets).toHaveLength(1);
    expect(result.buckets[0]).toEqual(result.total);
    expect(result.total).toMatchObject({
      start: day,
      end: day,
      bookings: { total: 3, pending: 1, confirmed: 1, cancelled: 1, completed: 0, noShow: 0 },
      capturedCents: 5000,
      refundedCents: 0,
      revenueCents: 5000,
      currency: 'EUR',
      cancellationRate: 1 / 3,
      noShowRate: 0,
      // Two live bookings of 60 minutes over both partners' 2 x 240 open minutes.
      bookedMinutes: 120,
      openMinutes: 480,
      utilisation: 0.25,
      newCustomers: 2,
      returningCustomerBookings: 1,
    });
    expect(result.total.averageLeadTimeMinutes).toBeGreaterThan(2 * 24 * 60);
  });

  it('narrows to a partner (its open time only) and to a service', async () => {
    const mine = (await stats({ partnerId: partner.gid })).data.business.stats.total;
    expect(mine).toMatchObject({ bookings: { total: 3 }, bookedMinutes: 120, openMinutes: 240, utilisation: 0.5 });
    const theirs = (await stats({ partnerId: other.gid })).data.business.stats.total;
    expect(theirs).toMatchObject({ bookings: { total: 0 }, openMinutes: 240, utilisation: 0, cancellationRate: null, averageLeadTimeMinutes: null });
    const otherService = await createService(api.db, business);
    expect((await stats({ serviceId: otherService.gid })).data.business.stats.total).toMatchObject({ bookings: { total: 0 }, capturedCents: 0 });
    expect((await stats({ serviceId: service.gid })).data.business.stats.total).toMatchObject({ bookings: { total: 3 } });
  });

  it('takes a refund off the revenue once the relay has run', async () => {
    await mutateOk(api, PAYMENT_REFUND, { paymentId: paymentGid }, tokens.staff);
    await api.app.relay.kick();
    const total = (await stats({})).data.business.stats.total;
    expect(total).toMatchObject({ capturedCents: 5000, refundedCents: 5000, revenueCents: 0 });
  });

  it('gives every bucket of the range, clipped to it, for weeks and months', async () => {
    const weeks = (await stats({ from: '2026-03-04', to: '2026-03-20', granularity: 'WEEK' })).data.business.stats.buckets;
    expect(weeks.map((b: { start: string; end: string }) => [b.start, b.end])).toEqual([
      ['2026-03-04', '2026-03-08'],
      ['2026-03-09', '2026-03-15'],
      ['2026-03-16', '2026-03-20'],
    ]);
    const months = (await stats({ from: '2026-01-31', to: '2026-03-01', granularity: 'MONTH' })).data.business.stats.buckets;
    expect(months.map((b: { start: string; end: string }) => [b.start, b.end])).toEqual([
      ['2026-01-31', '2026-01-31'],
      ['2026-02-01', '2026-02-28'],
      ['2026-03-01', '2026-03-01'],
    ]);
    const month = `${day.slice(0, 8)}01`;
    const around = (await stats({ from: month, to: `${day.slice(0, 8)}28`, granularity: 'MONTH' })).data.business.stats;
    expect(around.buckets[0].bookings.total).toBe(3);
  });

  it('reads a year of days in one statement after the business', async () => {
    const { result, statements } = await api.countStatements(() => stats({ from: '2026-01-01', to: '2026-12-31' }));
    expect(result.errors).toBeUndefined();
    expect(result.data.business.stats.buckets).toHaveLength(365);
    // The business by slug, then the rollups (both tables in one statement).
    expect(statements).toBe(2);
  });

  it('is for the owner and staff only', async () => {
    const anonymous = await api.gql(STATS, { slug: business.slug, from: day, to: day });
    expect(anonymous.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
    for (const token of [tokens.partner, tokens.customer]) {
      const res = await stats({}, token);
      expect(res.data.business.stats).toBeNull();
      expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    }
    const elsewhere = await createBusiness(api.db);
    const foreign = await api.token({ sub: 'staff-elsewhere', role: 'staff', business_id: elsewhere.gid });
    expect((await stats({}, foreign)).errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
    expect((await stats({}, tokens.admin)).data.business.stats.total.bookings.total).toBe(3);
    // Owners and staff by membership (account tokens), as onboarding makes them.
    for (const role of ['owner', 'staff'] as const) {
      const account = await createAccount(api);
      await addMembership(api.db, account, business, role);
      expect((await stats({}, account.token)).data.business.stats.total.bookings.total).toBe(3);
    }
  });

  it('refuses a backwards or too long range and a wrong kind of ID', async () => {
    const backwards = await stats({ from: '2026-03-02', to: '2026-03-01' });
    expect(backwards.errors?.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([['BAD_USER_INPUT', 'to']]);
    const long = await stats({ from: '2024-01-01', to: '2026-12-31' });
    expect(long.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    const wrongId = await stats({ partnerId: service.gid });
    expect(wrongId.errors?.map((e) => [e.extensions?.code, e.extensions?.argument])).toEqual([['BAD_USER_INPUT', 'partnerId']]);
  });

  describe('GET /exports/bookings.csv', () => {
    let formulaCustomer: BuiltCustomer;

    beforeAll(async () => {
      // A name a spreadsheet would run, with a comma and quotes, booked at the same start as the
      // first booking (on the other partner): the keyset's tie-break on id is exercised.
      formulaCustomer = await createCustomer(api.db, business, { name: '=HYPERLINK("http://evil.example","a, b")' });
      const otherSlots = await sql`SELECT id, slot_start AS "startsAt", slot_end AS "endsAt" FROM partner_slots WHERE partner_id = ${other.id}::bigint ORDER BY slot_start LIMIT 2`.execute(api.db);
      await createBooking(api.db, { business, service, partner: other, customer: formulaCustomer, slots: otherSlots.rows as BuiltSlot[], status: 'confirmed' });
    });

    it('streams the range as CSV in start order for the staff, quoted and formula-safe', async () => {
      const res = await exportCsv({ businessId: business.gid, from: day, to: day }, tokens.staff);
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/csv; charset=utf-8');
      const lines = res.body.split('\r\n');
      expect(lines[0]).toBe('booking_id,local_date,starts_at,ends_at,status,partner,service,customer,customer_email,total_cents,captured_cents,refunded_cents,currency,cancel_reason,created_at');
      expect(lines.at(-1)).toBe('');
      const rows = lines.slice(1, -1);
      expect(rows).toHaveLength(4);
      expect(rows.map((line) => line.split(',')[4])).toEqual(['CONFIRMED', 'CONFIRMED', 'CANCELLED', 'PENDING']);
      expect(rows.every((line) => line.split(',')[1] === day)).toBe(true);
      expect(rows.join('\n')).toContain(`"'=HYPERLINK(""http://evil.example"",""a, b"")"`);
      expect(rows.join('\n')).toContain(',5000,5000,5000,EUR,');
    });

    it('pages by keyset without losing or repeating a row, one statement a page', async () => {
      const whole = await exportCsv({ businessId: business.gid, from: day, to: day }, tokens.staff);
      const { result, statements } = await api.countStatements(() => exportCsv({ businessId: business.gid, from: day, to: day }, undefined, PAGED_PATH));
      expect(result.body).toBe(whole.body);
      // The business, then pages of 2, 2 and an empty one.
      expect(statements).toBe(4);
    });

    it('quotes cells as RFC 4180 and defuses formulas', () => {
      expect(csvCell('plain')).toBe('plain');
      expect(csvCell('a "b", c')).toBe('"a ""b"", c"');
      expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
      for (const lead of ['=', '+', '-', '@', '\t']) expect(csvCell(`${lead}1+1`)).toBe(`'${lead}1+1`);
      expect(csvCell(-5)).toBe('-5');
      expect(csvCell(null)).toBe('');
    });

    it('is authorized like the dashboard and refuses bad parameters', async () => {
      const query = { businessId: business.gid, from: day, to: day };
      expect((await exportCsv(query, undefined)).status).toBe(401);
      expect((await exportCsv(query, 'not-a-token')).status).toBe(401);
      expect((await exportCsv(query, tokens.partner)).status).toBe(403);
      expect((await exportCsv(query, tokens.customer)).status).toBe(403);
      expect((await exportCsv({ ...query, businessId: service.gid }, tokens.staff)).status).toBe(400);
      expect((await exportCsv({ ...query, from: '2026-02-30' }, tokens.staff)).status).toBe(400);
      expect((await exportCsv({ ...query, from: '2026-03-02', to: '2026-03-01' }, tokens.staff)).status).toBe(400);
      const forbidden = await exportCsv(query, tokens.customer);
      expect(JSON.parse(forbidden.body).errors[0].extensions.code).toBe('FORBIDDEN');
      expect((await exportCsv(query, tokens.admin)).status).toBe(200);
    });
  });
});
