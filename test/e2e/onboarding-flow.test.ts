import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, todayIn } from '../../src/availability/available-starts.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { deliver, PAYMENT_CREATE, testProviderOf } from '../payments/payment-scene.js';
import { startTestApi, type GraphQLResponse, type TestApi } from '../support/api.js';

/**
 * Issue 11's "done when": a business goes live on an empty database through the API alone. Every
 * step is a request a client (or the payment provider) would send, with tokens of accounts that did
 * not exist before (a `sub`, an `email` and a `name`, no `role` claim): no builder, no demo data, no
 * SQL but the emptiness check and the statement counts. The walk-through in README "From an empty
 * database to a completed booking" is the same flow with curl.
 *
 * The business is in Europe/Berlin and the booking on its local date two days from today: past the
 * default minimum notice, inside the default maximum advance.
 */

const USER_ERRORS = 'userErrors { field message code }';
const BUSINESS_CREATE = `mutation($input: BusinessCreateInput!) { businessCreate(input: $input) { business { id slug timeZone currency } ${USER_ERRORS} } }`;
const SERVICE_CREATE = `mutation($input: ServiceCreateInput!) { serviceCreate(input: $input) { service { id name durationMinutes priceCents } ${USER_ERRORS} } }`;
const PARTNER_CREATE = `mutation($input: PartnerCreateInput!) { partnerCreate(input: $input) { partner { id name services { id } } ${USER_ERRORS} } }`;
const MEMBER_INVITE = `mutation($input: MemberInviteInput!) { memberInvite(input: $input) { invitation { email role partner { id } acceptedAt } token ${USER_ERRORS} } }`;
const INVITATION_ACCEPT = `mutation($input: InvitationAcceptInput!) { invitationAccept(input: $input) { membership { id role business { id } partner { id } } ${USER_ERRORS} } }`;
const SCHEDULE_SET = `mutation($input: PartnerScheduleSetInput!) { partnerScheduleSet(input: $input) { partner { id } ${USER_ERRORS} } }`;
const SLOTS_GENERATE = `mutation($input: SlotsGenerateInput!) { slotsGenerate(input: $input) { partner { id } slotsCreated ${USER_ERRORS} } }`;
const AVAILABLE_SLOTS = `query($businessId: ID!, $serviceId: ID!, $date: Date!) {
  availableSlots(businessId: $businessId, serviceId: $serviceId, date: $date) { startsAt endsAt partners { id } }
}`;
const BOOKING = 'id status startsAt totalCents currency customer { id email name } partner { id } service { id } payments { id status amountCents }';
const BOOKING_CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { ${BOOKING} } ${USER_ERRORS} } }`;
const BOOKING_COMPLETE = `mutation($input: BookingCompleteInput!) { bookingComplete(input: $input) { booking { ${BOOKING} } ${USER_ERRORS} } }`;
const BOOKING_NODE = `query($id: ID!) { node(id: $id) { ... on Booking { ${BOOKING} } } }`;
const VIEWER = `{ viewer { role subject email name
  memberships { role business { id } partner { id } }
  customerRecords { id email name business { id } } } }`;

const TIME_ZONE = 'Europe/Berlin';
const EVERY_DAY = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];

describe('From an empty database to a completed booking, only through the API', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ isolated: true });
  });
  afterAll(() => api.close());

  /** The step's statement counts, printed at the end (they are the note's numbers, not assertions). */
  const statements: Record<string, number> = {};

  /** Runs one mutation with a token and returns its payload, after checking it has no errors and no userErrors. */
  async function step<T = any>(label: string, query: string, input: Record<string, unknown>, token: string): Promise<T> {
    const { result, statements: count } = await api.countStatements(() => api.gql(query, { input }, { token }));
    statements[label] = count;
    return payloadOf(result);
  }

  function payloadOf(res: GraphQLResponse): any {
    expect(res.errors).toBeUndefined();
    const [payload] = Object.values(res.data) as Array<{ userErrors: unknown[] }>;
    expect(payload.userErrors).toEqual([]);
    return payload;
  }

  async function query(query: string, variables: Record<string, unknown>, token?: string) {
    const res = await api.gql(query, variables, { token });
    expect(res.errors).toBeUndefined();
    return res.data;
  }

  /** A token of an account nobody has seen yet: an identity provider's sub, e-mail and name, nothing more. */
  async function freshAccount(subject: string, name: string) {
    const email = `${subject}@onboarding.example`;
    return { subject, email, name, token: await api.token({ sub: subject, email, name }) };
  }

  it('an owner opens a business, onboards two partners with weekly hours, and a new customer books, pays and is served', async () => {
    // An empty database: no account, business, partner, customer or slot.
    for (const table of ['accounts', 'businesses', 'services', 'memberships', 'partners', 'customers', 'partner_slots', 'bookings', 'payments'] as const) {
      const { count } = await api.db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
      expect(Number(count), table).toBe(0);
    }

    const owner = await freshAccount('onboarding-owner', 'Olga Owner');
    const firstPartner = await freshAccount('onboarding-partner-1', 'Pia Partner');
    const secondPartner = await freshAccount('onboarding-partner-2', 'Paul Partner');
    const customer = await freshAccount('onboarding-customer', 'Cora Customer');

    // The owner opens the business and its catalog.
    const { business } = await step('businessCreate', BUSINESS_CREATE, {
      slug: 'onboarding-studio', name: 'Onboarding Studio', kind: 'SALON', city: 'Berlin', timeZone: TIME_ZONE, currency: 'EUR',
    }, owner.token);
    expect(business).toMatchObject({ slug: 'onboarding-studio', timeZone: TIME_ZONE, currency: 'EUR' });

    const { service: cut } = await step('serviceCreate', SERVICE_CREATE, { businessId: business.id, name: 'Cut', durationMinutes: 60, priceCents: 4500 }, owner.token);
    const { service: blowDry } = await step('serviceCreate (second)', SERVICE_CREATE, { businessId: business.id, name: 'Blow-dry', durationMinutes: 30, priceCents: 2500 }, owner.token);
    expect(cut).toMatchObject({ name: 'Cut', durationMinutes: 60, priceCents: 4500 });
    expect(blowDry).toMatchObject({ name: 'Blow-dry', durationMinutes: 30, priceCents: 2500 });

    // Two partner records (every service, by default), each invited to the team and accepted by its own new account.
    const partners = [];
    for (const [index, account] of [firstPartner, secondPartner].entries()) {
      const { partner } = await step(`partnerCreate${index ? ' (second)' : ''}`, PARTNER_CREATE, { businessId: business.id, name: account.name }, owner.token);
      expect(partner.services.map((s: { id: string }) => s.id).sort()).toEqual([cut.id, blowDry.id].sort());

      const invited = await step(`memberInvite${index ? ' (second)' : ''}`, MEMBER_INVITE, { businessId: business.id, email: account.email, role: 'PARTNER', partnerId: partner.id }, owner.token);
      expect(invited).toMatchObject({ invitation: { email: account.email, role: 'PARTNER', partner: { id: partner.id }, acceptedAt: null }, token: expect.any(String) });

      const { membership } = await step(`invitationAccept${index ? ' (second)' : ''}`, INVITATION_ACCEPT, { token: invited.token }, account.token);
      expect(membership).toMatchObject({ role: 'PARTNER', business: { id: business.id }, partner: { id: partner.id } });
      partners.push(partner);
    }

    // Weekly hours from today, and the slots of the booking's date (slotsGenerate: the periodic job's work for one partner).
    const today = todayIn(TIME_ZONE);
    const date = addDays(today, 2);
    for (const [index, partner] of partners.entries()) {
      const weeklyHours = EVERY_DAY.map((dayOfWeek) => ({ dayOfWeek, startTime: '09:00', endTime: '17:00' }));
      const scheduled = await step(`partnerScheduleSet${index ? ' (second)' : ''}`, SCHEDULE_SET, { partnerId: partner.id, weeklyHours, effectiveFrom: today }, owner.token);
      expect(scheduled.partner.id).toBe(partner.id);
      const generated = await step(`slotsGenerate${index ? ' (second)' : ''}`, SLOTS_GENERATE, { partnerId: partner.id, from: date, to: date }, owner.token);
      expect(generated.slotsCreated).toBeGreaterThan(0);
    }

    // A new customer finds a free start (no token needed) and books it: the booking registers them.
    const { availableSlots } = await query(AVAILABLE_SLOTS, { businessId: business.id, serviceId: cut.id, date });
    expect(availableSlots.length).toBeGreaterThan(0);
    const start = availableSlots[0];
    expect(start.partners.map((p: { id: string }) => p.id).sort()).toEqual(partners.map((p) => p.id).sort());

    const { booking } = await step('bookingCreate (self-registration)', BOOKING_CREATE, { serviceId: cut.id, startsAt: start.startsAt }, customer.token);
    expect(booking).toMatchObject({
      status: 'PENDING', startsAt: start.startsAt, totalCents: 4500, currency: 'EUR', service: { id: cut.id },
      customer: { email: customer.email, name: customer.name }, payments: [],
    });
    expect(partners.map((p) => p.id)).toContain(booking.partner.id);

    // The customer pays with the test provider; the provider's signed webhook reports the success.
    const created = await step('paymentCreate', PAYMENT_CREATE, { bookingId: booking.id, provider: 'test' }, customer.token);
    expect(created.payment).toMatchObject({ status: 'PENDING', provider: 'test', amountCents: 4500, currency: 'EUR', booking: { id: booking.id, status: 'PENDING' } });
    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: created.payment.providerTxnId, amountCents: 4500 });
    const { result: delivered, statements: webhookStatements } = await api.countStatements(() => deliver(api, event));
    statements['payment webhook (payment.succeeded)'] = webhookStatements;
    expect(delivered).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });
    expect((await query(BOOKING_NODE, { id: booking.id }, customer.token)).node.status).toBe('CONFIRMED');

    // The owner marks it delivered.
    const completed = await step('bookingComplete', BOOKING_COMPLETE, { bookingId: booking.id }, owner.token);
    expect(completed.booking.status).toBe('COMPLETED');

    // At the end: the booking is completed and paid, as its customer and a partner see it.
    const final = (await query(BOOKING_NODE, { id: booking.id }, customer.token)).node;
    expect(final).toMatchObject({ status: 'COMPLETED', payments: [{ id: created.payment.id, status: 'SUCCEEDED', amountCents: 4500 }] });
    const assigned = [firstPartner, secondPartner][partners.findIndex((p) => p.id === booking.partner.id)];
    expect((await query(BOOKING_NODE, { id: booking.id }, assigned.token)).node).toMatchObject({ status: 'COMPLETED' });

    // Each account's viewer shows what the flow made of it: who is who comes from the database.
    const viewerOf = async (account: { token: string }) => (await query(VIEWER, {}, account.token)).viewer;
    expect(await viewerOf(owner)).toEqual({
      role: 'ACCOUNT', subject: owner.subject, email: owner.email, name: owner.name,
      memberships: [{ role: 'OWNER', business: { id: business.id }, partner: null }], customerRecords: [],
    });
    for (const [index, account] of [firstPartner, secondPartner].entries()) {
      expect(await viewerOf(account)).toEqual({
        role: 'ACCOUNT', subject: account.subject, email: account.email, name: account.name,
        memberships: [{ role: 'PARTNER', business: { id: business.id }, partner: { id: partners[index].id } }], customerRecords: [],
      });
    }
    expect(await viewerOf(customer)).toEqual({
      role: 'ACCOUNT', subject: customer.subject, email: customer.email, name: customer.name,
      memberships: [], customerRecords: [{ id: booking.customer.id, email: customer.email, name: customer.name, business: { id: business.id } }],
    });

    // The payment row itself agrees (read only).
    const payment = await api.db.selectFrom('payments').select(['status']).where('id', '=', rawIdOf(created.payment.id, 'Payment')!).executeTakeFirstOrThrow();
    expect(payment.status).toBe('succeeded');

    console.log(`onboarding flow statements (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'}): ${JSON.stringify(statements)}`);
  });
});
