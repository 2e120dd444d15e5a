import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { mutateOk, startTestApi, tokensFor, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';
import { bookedScene } from '../support/scenes.js';
import { BOOKING_EVENTS, record, untilSubscribed, wsClient } from '../support/subscriptions.js';
import { deliver, testProviderOf } from '../payments/payment-scene.js';

const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { id } userErrors { code } } }`;
const status = (field: string) => `mutation($input: ${field[0].toUpperCase()}${field.slice(1)}Input!) { ${field}(input: $input) { booking { id status } userErrors { code } } }`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { id } userErrors { code message } } }`;
const PAY = `mutation($input: PaymentCreateInput!) { paymentCreate(input: $input) { payment { id providerTxnId } userErrors { code } } }`;
const SINCE = `query($businessId: ID!, $after: String, $partnerId: ID, $first: Int) {
  bookingEventsSince(businessId: $businessId, after: $after, partnerId: $partnerId, first: $first) {
    events { cursor type booking { id } } endCursor hasMore
  }
}`;

describe('Subscription: bookingEvents (one process, in-process pub/sub)', () => {
  let api: TestApi;
  const clients: Client[] = [];
  beforeAll(async () => {
    // Timers a minute apart: every event here must reach its subscribers through the kick that
    // follows its own commit, not a periodic pass.
    api = await startTestApi({ isolated: true, config: { events: { relayIntervalMs: 60_000, republishAfterMs: 60_000, checkIntervalMs: 60_000, maxQueuedPerSubscriber: 1000 } } });
  });
  afterEach(async () => {
    // Every test starts with no subscriber left from the one before.
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    await untilSubscribed(api.app, 0);
  });
  afterAll(() => api.close());

  function client(token: string | undefined) {
    const c = wsClient(api.app.wsUrl, token);
    clients.push(c);
    return c;
  }

  const ok = (query: string, input: Record<string, unknown>, token: string | undefined) => mutateOk(api, query, input, token);

  it('delivers every booking change in order, each with the booking read fresh for that event', async () => {
    const s = await bookedScene(api);
    const staff = record(client(s.tokens.staff), BOOKING_EVENTS, { businessId: s.business.gid });
    await untilSubscribed(api.app, 1);

    const created = await ok(CREATE, { customerId: s.customer.gid, slotIds: s.partners[0].slots.slice(4, 6).map((x) => x.gid) }, s.tokens.staff);
    const id = created.booking.id;
    // The booking is read when its event is delivered: the first event is handled before the confirmation.
    await staff.waitFor(1);
    await ok(status('bookingConfirm'), { bookingId: id }, s.tokens.staff);
    await ok(RESCHEDULE, { bookingId: id, startsAt: s.partners[0].slots[6].startsAt }, s.tokens.staff);
    await ok(status('bookingComplete'), { bookingId: id }, s.tokens.staff);
    await ok(status('bookingCancel'), { bookingId: s.booking.gid }, s.tokens.staff);

    const results = await staff.waitFor(5);
    const events = results.map((r) => r.bookingEvents);
    expect(events.map((e) => [e.type, e.booking?.id === id ? 'new' : 'old', e.status])).toEqual([
      ['BOOKING_CREATED', 'new', 'PENDING'],
      ['BOOKING_CONFIRMED', 'new', 'CONFIRMED'],
      ['BOOKING_RESCHEDULED', 'new', 'CONFIRMED'],
      ['BOOKING_COMPLETED', 'new', 'COMPLETED'],
      ['BOOKING_CANCELLED', 'old', 'CANCELLED'],
    ]);
    // Fresh loaders per event: each event's nested booking shows the state when it was delivered,
    // not what the first event of the subscription loaded.
    expect(events[0].booking.status).toBe('PENDING');
    expect(events[1].booking.status).toBe('CONFIRMED');
    expect(events[0].booking).toMatchObject({ customer: { id: s.customer.gid }, service: { id: s.service.gid }, partner: { id: s.partners[0].gid } });
    expect(events[2]).toMatchObject({ startsAt: s.partners[0].slots[6].startsAt, previousStartsAt: s.partners[0].slots[4].startsAt, previousPartner: null });
    // Cursors: integers, strictly increasing by one within this business's stream here.
    const cursors = events.map((e) => Number(e.cursor));
    expect(cursors.every((c, i) => i === 0 || c > cursors[i - 1])).toBe(true);
    staff.unsubscribe();
  });

  it('gives the no-show event, and payment status changes (started, succeeded with the confirmation it causes, refunded)', async () => {
    const s = await bookedScene(api, 'confirmed');
    const staff = record(client(s.tokens.staff), BOOKING_EVENTS, { businessId: s.business.gid });
    await untilSubscribed(api.app, 1);
    await ok(status('bookingMarkNoShow'), { bookingId: s.booking.gid }, s.tokens.staff);

    const created = await ok(CREATE, { slotIds: s.partners[1].slots.slice(0, 2).map((x) => x.gid) }, s.tokens.customer);
    const pay = await ok(PAY, { bookingId: created.booking.id, provider: 'test' }, s.tokens.customer);
    // Each payment change reaches subscribers on its own (no booking change follows to carry it).
    await staff.waitFor(3);
    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: pay.payment.providerTxnId, amountCents: s.service.priceCents });
    expect((await deliver(api, event)).status).toBe(200);
    await staff.waitFor(5);
    await ok(`mutation($input: PaymentRefundInput!) { paymentRefund(input: $input) { payment { id } userErrors { code } } }`, { paymentId: pay.payment.id }, s.tokens.staff);

    const events = (await staff.waitFor(6)).map((r) => r.bookingEvents);
    expect(events.map((e) => [e.type, e.status, e.paymentStatus, e.previousPaymentStatus])).toEqual([
      ['BOOKING_NO_SHOW', 'NO_SHOW', null, null],
      ['BOOKING_CREATED', 'PENDING', null, null],
      ['PAYMENT_STATUS_CHANGED', 'PENDING', 'PENDING', null],
      ['PAYMENT_STATUS_CHANGED', 'PENDING', 'SUCCEEDED', 'PENDING'],
      ['BOOKING_CONFIRMED', 'CONFIRMED', null, null],
      ['PAYMENT_STATUS_CHANGED', 'CONFIRMED', 'REFUNDED', 'SUCCEEDED'],
    ]);
    // Read when delivered, before the refund.
    expect(events[3].payment).toEqual({ id: pay.payment.id, status: 'SUCCEEDED' });
    staff.unsubscribe();
  });

  it('filters by role: a partner gets only their bookings (and one moved away from them), staff their business, other tenants and customers nothing', async () => {
    const s = await bookedScene(api);
    const other = await createBookableBusiness(api.db, { partners: 1, durationMinutes: 60 });
    const otherTokens = await tokensFor(api, { businessGid: other.business.gid, partnerGid: other.partners[0].gid, customerGid: other.customer.gid });
    const partnerTwoToken = await api.token({ sub: 'partner-2', role: 'partner', business_id: s.business.gid, partner_id: s.partners[1].gid });

    const staff = record(client(s.tokens.staff), BOOKING_EVENTS, { businessId: s.business.gid });
    const partnerOne = record(client(s.tokens.partner), BOOKING_EVENTS, { businessId: s.business.gid });
    const partnerTwo = record(client(partnerTwoToken), BOOKING_EVENTS, { businessId: s.business.gid });
    const staffOnlyPartnerTwo = record(client(s.tokens.staff), BOOKING_EVENTS, { businessId: s.business.gid, partnerId: s.partners[1].gid });
    const otherStaff = record(client(otherTokens.staff), BOOKING_EVENTS, { businessId: other.business.gid });
    await untilSubscribed(api.app, 5);

    // Refused subscriptions: coded errors.
    const customer = record(client(s.tokens.customer), BOOKING_EVENTS, { businessId: s.business.gid });
    const crossTenant = record(client(otherTokens.staff), BOOKING_EVENTS, { businessId: s.business.gid });
    const partnerPeeking = record(client(s.tokens.partner), BOOKING_EVENTS, { businessId: s.business.gid, partnerId: s.partners[1].gid });
    for (const refused of [customer, crossTenant, partnerPeeking]) {
      const errors = await refused.waitForError();
      expect(errors.map((e: any) => e.extensions.code)).toEqual(['FORBIDDEN']);
    }

    // Partner one's booking (the scene's) is moved to partner two; then a booking for partner two alone.
    await ok(RESCHEDULE, { bookingId: s.booking.gid, startsAt: s.partners[1].slots[4].startsAt, partnerId: s.partners[1].gid }, s.tokens.staff);
    const created = await ok(CREATE, { customerId: s.customer.gid, slotIds: s.partners[1].slots.slice(0, 2).map((x) => x.gid) }, s.tokens.staff);
    // And one in the other business, which only its staff may hear about.
    await ok(CREATE, { customerId: other.customer.gid, slotIds: other.partners[0].slots.slice(0, 2).map((x) => x.gid) }, otherTokens.staff);

    const types = (r: { results: any[] }) => r.results.map((x) => x.bookingEvents.type);
    await staff.waitFor(2);
    await partnerTwo.waitFor(2);
    await staffOnlyPartnerTwo.waitFor(2);
    await otherStaff.waitFor(1);
    await partnerOne.waitFor(1);
    // Delivered in position order to everyone: once the later events arrived, nothing else is coming for these filters.
    await api.app.events.catchUp();
    expect(types(staff)).toEqual(['BOOKING_RESCHEDULED', 'BOOKING_CREATED']);
    expect(types(partnerTwo)).toEqual(['BOOKING_RESCHEDULED', 'BOOKING_CREATED']);
    expect(types(staffOnlyPartnerTwo)).toEqual(['BOOKING_RESCHEDULED', 'BOOKING_CREATED']);
    expect(types(otherStaff)).toEqual(['BOOKING_CREATED']);
    expect(types(partnerOne)).toEqual(['BOOKING_RESCHEDULED']);
    // The previous partner is told the booking left them, but can no longer read it.
    expect(partnerOne.results[0].bookingEvents).toMatchObject({ booking: null, partner: { id: s.partners[1].gid }, previousPartner: { id: s.partners[0].gid } });
    expect(partnerTwo.results[1].bookingEvents.booking.id).toBe(created.booking.id);
    for (const r of [staff, partnerOne, partnerTwo, staffOnlyPartnerTwo, otherStaff]) r.unsubscribe();
  });

  it('writes no event for a refused mutation: the event commits with the change or not at all', async () => {
    const s = await bookedScene(api);
    const before = await api.db.selectFrom('booking_events').select((eb) => eb.fn.countAll<string>().as('n')).where('business_id', '=', s.business.id).executeTakeFirstOrThrow();
    // The scene's booking holds slots 2-3: booking them again is refused.
    const res = await api.gql(CREATE, { input: { customerId: s.customer.gid, slotIds: s.partners[0].slots.slice(2, 4).map((x) => x.gid) } }, { token: s.tokens.staff });
    expect(res.data.bookingCreate.userErrors).toEqual([{ code: 'SLOT_UNAVAILABLE' }]);
    const after = await api.db.selectFrom('booking_events').select((eb) => eb.fn.countAll<string>().as('n')).where('business_id', '=', s.business.id).executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  describe('bookingEventsSince (replay)', () => {
    it('returns exactly the events after a cursor, in order, the same ones subscribers got, page by page', async () => {
      const s = await bookedScene(api);
      const staff = record(client(s.tokens.staff), BOOKING_EVENTS, { businessId: s.business.gid });
      await untilSubscribed(api.app, 1);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const created = await ok(CREATE, { customerId: s.customer.gid, slotIds: s.partners[1].slots.slice(2 * i, 2 * i + 2).map((x) => x.gid) }, s.tokens.staff);
        ids.push(created.booking.id);
      }
      await ok(status('bookingCancel'), { bookingId: ids[0] }, s.tokens.staff);
      const live = (await staff.waitFor(4)).map((r) => r.bookingEvents);
      staff.unsubscribe();

      // A client that handled the first event and then lost its connection catches up from its cursor.
      const res = await api.gql(SINCE, { businessId: s.business.gid, after: live[0].cursor }, { token: s.tokens.staff });
      expect(res.errors).toBeUndefined();
      expect(res.data.bookingEventsSince).toEqual({
        events: live.slice(1).map((e) => ({ cursor: e.cursor, type: e.type, booking: { id: e.booking.id } })),
        endCursor: live[3].cursor,
        hasMore: false,
      });
      // From the start, two at a time.
      const first = await api.gql(SINCE, { businessId: s.business.gid, first: 2 }, { token: s.tokens.staff });
      expect(first.data.bookingEventsSince).toMatchObject({ endCursor: live[1].cursor, hasMore: true });
      expect(first.data.bookingEventsSince.events.map((e: any) => e.cursor)).toEqual([live[0].cursor, live[1].cursor]);
      const second = await api.gql(SINCE, { businessId: s.business.gid, first: 2, after: first.data.bookingEventsSince.endCursor }, { token: s.tokens.staff });
      expect(second.data.bookingEventsSince.events.map((e: any) => e.cursor)).toEqual([live[2].cursor, live[3].cursor]);
      // Nothing after the last one: the cursor stays.
      const none = await api.gql(SINCE, { businessId: s.business.gid, after: live[3].cursor }, { token: s.tokens.staff });
      expect(none.data.bookingEventsSince).toEqual({ events: [], endCursor: live[3].cursor, hasMore: false });
    });

    it('filters like the subscription: a partner gets their own, customers and other tenants are refused, bad arguments are coded errors', async () => {
      const s = await bookedScene(api);
      const other = await createBookableBusiness(api.db, { partners: 1, durationMinutes: 60 });
      const otherStaff = await api.token({ sub: 'x', role: 'staff', business_id: other.business.gid });
      await ok(CREATE, { customerId: s.customer.gid, slotIds: s.partners[1].slots.slice(0, 2).map((x) => x.gid) }, s.tokens.staff);
      await ok(status('bookingConfirm'), { bookingId: s.booking.gid }, s.tokens.staff);
      await api.app.relay.kick();

      const asPartner = await api.gql(SINCE, { businessId: s.business.gid }, { token: s.tokens.partner });
      expect(asPartner.data.bookingEventsSince.events.map((e: any) => [e.type, e.booking.id])).toEqual([['BOOKING_CONFIRMED', s.booking.gid]]);
      const asStaff = await api.gql(SINCE, { businessId: s.business.gid }, { token: s.tokens.staff });
      expect(asStaff.data.bookingEventsSince.events.map((e: any) => e.type)).toEqual(['BOOKING_CREATED', 'BOOKING_CONFIRMED']);

      const codes = async (variables: Record<string, unknown>, token: string | undefined) =>
        (await api.gql(SINCE, variables, { token })).errors?.map((e) => e.extensions?.code);
      expect(await codes({ businessId: s.business.gid }, s.tokens.customer)).toEqual(['FORBIDDEN']);
      expect(await codes({ businessId: s.business.gid }, otherStaff)).toEqual(['FORBIDDEN']);
      expect(await codes({ businessId: s.business.gid }, undefined)).toEqual(['UNAUTHENTICATED']);
      expect(await codes({ businessId: s.business.gid, partnerId: s.partners[1].gid }, s.tokens.partner)).toEqual(['FORBIDDEN']);
      expect(await codes({ businessId: s.business.gid, after: 'abc' }, s.tokens.staff)).toEqual(['BAD_USER_INPUT']);
      expect(await codes({ businessId: s.business.gid, first: 501 }, s.tokens.staff)).toEqual(['BAD_USER_INPUT']);
      expect(await codes({ businessId: 'nope' }, s.tokens.staff)).toEqual(['BAD_USER_INPUT']);
    });

    it('costs one statement for a page', async () => {
      const s = await bookedScene(api);
      await ok(status('bookingConfirm'), { bookingId: s.booking.gid }, s.tokens.staff);
      await api.app.relay.kick();
      const { result, statements } = await api.countStatements(() =>
        api.gql(`query($b: ID!) { bookingEventsSince(businessId: $b) { events { cursor type status startsAt } } }`, { b: s.business.gid }, { token: s.tokens.staff }),
      );
      expect(result.data.bookingEventsSince.events).toHaveLength(1);
      expect(statements).toBe(1);
    });
  });
});
