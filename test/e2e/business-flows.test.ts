import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, instantOf, todayIn } from '../../src/availability/available-starts.js';
import type { BusinessKindColumn } from '../../src/db/tables.js';
import { rawIdOf } from '../../src/shared/global-id.js';
import { deliver, PAYMENT_CREATE, testProviderOf } from '../payments/payment-scene.js';
import { startTestApi, tokensFor, type GraphQLResponse, type TestApi } from '../support/api.js';
import {
  auditRows,
  createBooking,
  createBusiness,
  createCustomer,
  createPartner,
  createService,
  createSlots,
  setCancellationWindow,
  uniqueSuffix,
  type BuiltBusiness,
  type BuiltPartner,
  type BuiltService,
} from '../support/builders.js';

/**
 * One end-to-end flow per kind of business, all through GraphQL over HTTP and the payment webhook
 * over HTTP: find a start, hold it, book with the hold, pay, let the signed `payment.succeeded`
 * confirm the booking, then reschedule and complete it, or cancel it (refunded or not, by the
 * business's cancellation window). Builders only set the scene (business, services, partners,
 * slots); every step under test is a request a client or the provider would send.
 *
 * Each scene is on the business's local date two days from today in its zone: past the default
 * minimum notice (60 minutes), inside the maximum advance (60 days), and at least 24 hours ahead,
 * so the default cancellation window (1440 minutes) still refunds.
 */

const USER_ERRORS = 'userErrors { field message code }';
const PARTNER = 'partner { id name city activeBookingCount }';
const BOOKING = `id status startsAt endsAt cancelReason totalCents currency ${PARTNER} service { id } slots { id startsAt status } payments { id status amountCents currency }`;

const AVAILABLE_SLOTS = `query($businessId: ID!, $serviceId: ID!, $date: Date!, $partnerId: ID) {
  availableSlots(businessId: $businessId, serviceId: $serviceId, date: $date, partnerId: $partnerId) { startsAt endsAt partners { id } }
}`;
const AVAILABLE_PARTNERS = `query($city: String!, $date: Date!, $businessId: ID) {
  availablePartners(city: $city, date: $date, businessId: $businessId) { id city }
}`;
const HOLD = `mutation($input: SlotHoldInput!) {
  slotHold(input: $input) { hold { id startsAt endsAt partner { id } service { id } slots { id startsAt status } } ${USER_ERRORS} }
}`;
const CREATE = `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { ${BOOKING} } ${USER_ERRORS} } }`;
const RESCHEDULE = `mutation($input: BookingRescheduleInput!) { bookingReschedule(input: $input) { booking { ${BOOKING} } ${USER_ERRORS} } }`;
const CANCEL = `mutation($input: BookingCancelInput!) { bookingCancel(input: $input) { booking { ${BOOKING} } ${USER_ERRORS} } }`;
const COMPLETE = `mutation($input: BookingCompleteInput!) { bookingComplete(input: $input) { booking { ${BOOKING} } ${USER_ERRORS} } }`;
const BOOKING_NODE = `query($id: ID!) { node(id: $id) { ... on Booking { ${BOOKING} } } }`;
const SCHEDULE_SET = `mutation($input: PartnerScheduleSetInput!) { partnerScheduleSet(input: $input) { partner { id } ${USER_ERRORS} } }`;
const GENERATE = `mutation($input: SlotsGenerateInput!) { slotsGenerate(input: $input) { partner { id } slotsCreated ${USER_ERRORS} } }`;
const BUSINESS_SETTINGS = `query($slug: String!) { business(slug: $slug) { kind city timeZone currency cancellationWindowMinutes } }`;

const DAYS_OF_WEEK = ['SUNDAY', 'MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY'];

/** The UTC offset of a zone at an instant, in milliseconds (positive east of Greenwich). */
function zoneOffsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(at);
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)!.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second')) - at;
}

/** The instant of a wall-clock time on a local date in a zone, as the API writes instants. Daytime hours only: no DST gap. */
function localInstant(date: string, time: string, timeZone: string): string {
  const wall = Date.parse(`${date}T${time}:00Z`);
  let guess = wall - zoneOffsetMs(wall, timeZone);
  guess = wall - zoneOffsetMs(guess, timeZone);
  return instantOf(guess);
}

describe('End to end: each kind of business, from availability to completion or refund', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  // -------------------------------------------------------------------------------------------
  // The scene and the steps every flow shares.

  interface Scene {
    business: BuiltBusiness;
    /** The local date of the flow and its wall-clock times as instants. */
    date: string;
    at: (time: string) => string;
  }

  /** A business like its demo counterpart, with a unique slug, and the flow's date two days ahead in its zone. */
  async function businessScene(kind: BusinessKindColumn, city: string, timeZone: string, currency: string): Promise<Scene> {
    const business = await createBusiness(api.db, { kind, city, timeZone, currency, slug: `${kind.replace('_', '-')}-${uniqueSuffix()}` });
    const date = addDays(todayIn(timeZone), 2);
    return { business, date, at: (time) => localInstant(date, time, timeZone) };
  }

  function succeeded<T = any>(res: GraphQLResponse, key: string): T {
    expect(res.errors).toBeUndefined();
    expect(res.data[key].userErrors).toEqual([]);
    return res.data[key];
  }

  async function startsOn(s: Scene, service: BuiltService, partner?: BuiltPartner): Promise<Array<{ startsAt: string; partners: string[] }>> {
    const res = await api.gql(AVAILABLE_SLOTS, { businessId: s.business.gid, serviceId: service.gid, date: s.date, partnerId: partner?.gid });
    expect(res.errors).toBeUndefined();
    return res.data.availableSlots.map((start: { startsAt: string; endsAt: string; partners: Array<{ id: string }> }) => {
      expect(Date.parse(start.endsAt) - Date.parse(start.startsAt)).toBe(service.durationMinutes * 60_000);
      return { startsAt: start.startsAt, partners: start.partners.map((p) => p.id) };
    });
  }

  async function startTimes(s: Scene, service: BuiltService, partner?: BuiltPartner): Promise<string[]> {
    return (await startsOn(s, service, partner)).map((start) => start.startsAt);
  }

  async function hold(token: string, input: Record<string, unknown>) {
    return succeeded(await api.gql(HOLD, { input }, { token }), 'slotHold').hold;
  }

  async function book(token: string, input: Record<string, unknown>) {
    return succeeded(await api.gql(CREATE, { input }, { token }), 'bookingCreate').booking;
  }

  async function bookingAs(token: string, bookingGid: string) {
    const res = await api.gql(BOOKING_NODE, { id: bookingGid }, { token });
    expect(res.errors).toBeUndefined();
    return res.data.node;
  }

  /**
   * Starts a payment as the customer (provider `test`), then delivers the provider's signed
   * `payment.succeeded` over HTTP; the booking must come back CONFIRMED and paid.
   */
  async function payAndConfirm(customerToken: string, booking: { id: string; totalCents: number; currency: string }) {
    const created = succeeded(await api.gql(PAYMENT_CREATE, { input: { bookingId: booking.id, provider: 'test' } }, { token: customerToken }), 'paymentCreate');
    expect(created.payment).toMatchObject({ status: 'PENDING', provider: 'test', amountCents: booking.totalCents, currency: booking.currency, booking: { id: booking.id, status: 'PENDING' } });
    expect(created.clientSecret).toMatch(/^test_txn_/);
    const payment = { gid: created.payment.id as string, id: rawIdOf(created.payment.id, 'Payment')!, txnId: created.payment.providerTxnId as string };

    const event = testProviderOf(api).signedEvent({ type: 'payment.succeeded', txnId: payment.txnId, amountCents: booking.totalCents });
    expect(await deliver(api, event)).toEqual({ status: 200, body: { received: true, outcome: 'applied' } });
    const confirmed = await bookingAs(customerToken, booking.id);
    expect(confirmed.status).toBe('CONFIRMED');
    expect(confirmed.payments).toEqual([{ id: payment.gid, status: 'SUCCEEDED', amountCents: booking.totalCents, currency: booking.currency }]);
    return { ...payment, confirmed };
  }

  async function trail(entityId: string, entity = 'booking') {
    return (await auditRows(api.db, entityId, entity)).map((row) => `${row.action} by ${row.actor}`);
  }

  /** The refunds the test provider made for a transaction: what its dashboard would list. */
  function refundsOf(txnId: string) {
    return testProviderOf(api).refunds.filter((r) => r.providerTxnId === txnId);
  }

  /** What `work` cost the availability cache and the database: run it alone (the counts are per process). */
  async function availabilityCost<T>(work: () => Promise<T>) {
    const counters = () => ({ ...{ hits: 0, computations: 0 }, ...api.app.cache.metrics.snapshot().families.available_slots });
    const before = counters();
    const { result, statements } = await api.countStatements(work);
    const after = counters();
    return { result, hits: after.hits - before.hits, computations: after.computations - before.computations, statements };
  }

  const slotStarts = (booking: { slots: Array<{ startsAt: string; status: string }> }) => booking.slots.map((slot) => `${slot.startsAt} ${slot.status}`);

  // -------------------------------------------------------------------------------------------

  it('marketplace (Berlin, EUR): books a free partner in the asked city, pays, cancels outside the refund window and keeps the money, then books afresh without naming a partner', async () => {
    const s = await businessScene('marketplace', 'Berlin', 'Europe/Berlin', 'EUR');
    const service = await createService(api.db, s.business, { name: 'Leaking tap repair', durationMinutes: 30, priceCents: 4900 });
    // Created first, so the Hamburg partner wins every tie: a booking that lands in Berlin was steered there by the city.
    const mehmet = await createPartner(api.db, s.business, { name: 'Mehmet Yilmaz', city: 'Hamburg' });
    const lena = await createPartner(api.db, s.business, { name: 'Lena Fischer', city: 'Berlin' });
    const jonas = await createPartner(api.db, s.business, { name: 'Jonas Becker', city: 'Berlin' });
    const slots = new Map<string, Awaited<ReturnType<typeof createSlots>>>();
    for (const partner of [mehmet, lena, jonas]) slots.set(partner.id, await createSlots(api.db, s.business, partner, new Date(s.at('09:00')), 6));
    // Jonas already has a job at 09:00: he is the busiest.
    const earlier = await createCustomer(api.db, s.business);
    await createBooking(api.db, { business: s.business, service, partner: jonas, customer: earlier, slots: slots.get(jonas.id)!.slice(0, 1), status: 'confirmed' });
    const customer = await createCustomer(api.db, s.business, { name: 'Amira Haddad' });
    const tokens = await tokensFor(api, { businessGid: s.business.gid, partnerGid: lena.gid, customerGid: customer.gid });
    expect((await api.gql(BUSINESS_SETTINGS, { slug: s.business.slug })).data.business).toEqual({ kind: 'MARKETPLACE', city: 'Berlin', timeZone: 'Europe/Berlin', currency: 'EUR', cancellationWindowMinutes: 1440 });

    // Who works in Berlin that day, least busy first; the Hamburg partner is not offered there.
    const inBerlin = await api.gql(AVAILABLE_PARTNERS, { city: 'Berlin', date: s.date, businessId: s.business.gid });
    expect(inBerlin.data.availablePartners).toEqual([{ id: lena.gid, city: 'Berlin' }, { id: jonas.gid, city: 'Berlin' }]);
    expect((await api.gql(AVAILABLE_PARTNERS, { city: 'Hamburg', date: s.date, businessId: s.business.gid })).data.availablePartners).toEqual([{ id: mehmet.gid, city: 'Hamburg' }]);
    const ten = s.at('10:00');
    expect((await startsOn(s, service)).find((start) => start.startsAt === ten)).toEqual({ startsAt: ten, partners: [mehmet.gid, lena.gid, jonas.gid] });

    // A hold cannot carry a city (SlotHoldInput has no `city`): the client holds the least busy Berlin partner it was offered.
    const held = await hold(tokens.customer!, { serviceId: service.gid, startsAt: ten, partnerId: inBerlin.data.availablePartners[0].id });
    expect(held).toMatchObject({ startsAt: ten, partner: { id: lena.gid }, slots: [{ startsAt: ten, status: 'HELD' }] });
    expect((await startsOn(s, service)).find((start) => start.startsAt === ten)!.partners).toEqual([mehmet.gid, jonas.gid]);

    // The booking's city is checked against the hold's partner.
    const wrongCity = await api.gql(CREATE, { input: { holdId: held.id, city: 'Hamburg' } }, { token: tokens.customer });
    expect(wrongCity.data.bookingCreate).toEqual({ booking: null, userErrors: [{ field: ['input', 'city'], code: 'MISMATCH', message: 'The hold is with a partner in Berlin, not Hamburg.' }] });
    const first = await book(tokens.customer!, { holdId: held.id, city: 'Berlin' });
    expect(first).toMatchObject({ status: 'PENDING', startsAt: ten, totalCents: 4900, currency: 'EUR', partner: { id: lena.gid, city: 'Berlin', activeBookingCount: 1 } });
    expect(slotStarts(first)).toEqual([`${ten} BOOKED`]);

    const payment = await payAndConfirm(tokens.customer!, first);
    expect(payment.confirmed.partner.activeBookingCount).toBe(1);

    // The business refunds only cancellations 30 days ahead: this one is too late.
    await setCancellationWindow(api.db, s.business, 43_200);
    const cancelled = succeeded(await api.gql(CANCEL, { input: { bookingId: first.id, reason: 'Fixed it myself' } }, { token: tokens.customer }), 'bookingCancel').booking;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelReason: 'Fixed it myself', slots: [], partner: { id: lena.gid, activeBookingCount: 0 } });
    expect(cancelled.payments).toEqual([{ id: payment.gid, status: 'SUCCEEDED', amountCents: 4900, currency: 'EUR' }]);
    expect(refundsOf(payment.txnId)).toEqual([]);
    expect(await trail(payment.id, 'payment')).toEqual(['payment.created by customer:customer-1', 'payment.succeeded by provider:test']);
    expect((await startsOn(s, service)).find((start) => start.startsAt === ten)!.partners).toEqual([mehmet.gid, lena.gid, jonas.gid]);

    // A fresh booking of the freed time without naming a partner, in Berlin: Lena again, not Mehmet, who wins every tie but works in Hamburg.
    const fresh = await book(tokens.customer!, { serviceId: service.gid, startsAt: ten, city: 'Berlin' });
    expect(fresh).toMatchObject({ status: 'PENDING', startsAt: ten, partner: { id: lena.gid, city: 'Berlin', activeBookingCount: 1 }, payments: [] });
    const freshPayment = await payAndConfirm(tokens.customer!, fresh);
    expect((await startsOn(s, service)).find((start) => start.startsAt === ten)!.partners).toEqual([mehmet.gid, jonas.gid]);

    expect(await trail(rawIdOf(held.id, 'SlotHold')!, 'hold')).toEqual(['hold.created by customer:customer-1', 'hold.consumed by customer:customer-1']);
    expect(await trail(rawIdOf(first.id, 'Booking')!)).toEqual(['booking.created by customer:customer-1', 'booking.confirmed by provider:test', 'booking.cancelled by customer:customer-1']);
    expect(await trail(rawIdOf(fresh.id, 'Booking')!)).toEqual(['booking.created by customer:customer-1', 'booking.confirmed by provider:test']);
    expect(await trail(freshPayment.id, 'payment')).toEqual(['payment.created by customer:customer-1', 'payment.succeeded by provider:test']);
  });

  it('salon (London, GBP): books the named stylist, pays, is moved by the customer (availability follows at once, never stale) and completed by the stylist', async () => {
    const s = await businessScene('salon', 'London', 'Europe/London', 'GBP');
    const service = await createService(api.db, s.business, { name: "Women's cut and blow-dry", durationMinutes: 60, priceCents: 6500 });
    const amelia = await createPartner(api.db, s.business, { name: 'Amelia Clarke', city: 'London' });
    const priya = await createPartner(api.db, s.business, { name: 'Priya Patel', city: 'London' });
    await createSlots(api.db, s.business, amelia, new Date(s.at('09:00')), 8);
    const priyaSlots = await createSlots(api.db, s.business, priya, new Date(s.at('09:00')), 8);
    // Priya is busier (12:00 is taken), so only naming her books her.
    await createBooking(api.db, { business: s.business, service, partner: priya, customer: await createCustomer(api.db, s.business), slots: priyaSlots.slice(6, 8), status: 'confirmed' });
    const customer = await createCustomer(api.db, s.business, { name: 'Grace Thompson' });
    const tokens = await tokensFor(api, { businessGid: s.business.gid, partnerGid: priya.gid, customerGid: customer.gid });

    expect((await startsOn(s, service)).find((start) => start.startsAt === s.at('10:00'))!.partners).toEqual([amelia.gid, priya.gid]);
    expect(await startTimes(s, service, priya)).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00'].map(s.at));

    const held = await hold(tokens.customer!, { serviceId: service.gid, startsAt: s.at('10:00'), partnerId: priya.gid });
    expect(held).toMatchObject({ partner: { id: priya.gid }, endsAt: s.at('11:00'), slots: [{ startsAt: s.at('10:00'), status: 'HELD' }, { startsAt: s.at('10:30'), status: 'HELD' }] });
    const booking = await book(tokens.customer!, { holdId: held.id, partnerId: priya.gid });
    expect(booking).toMatchObject({ status: 'PENDING', startsAt: s.at('10:00'), endsAt: s.at('11:00'), totalCents: 6500, currency: 'GBP', partner: { id: priya.gid, activeBookingCount: 2 } });
    expect(slotStarts(booking)).toEqual([`${s.at('10:00')} BOOKED`, `${s.at('10:30')} BOOKED`]);
    const payment = await payAndConfirm(tokens.customer!, booking);

    // The confirmation made the cached answer stale: computed again, then served from the cache without a statement.
    expect(await availabilityCost(() => startTimes(s, service, priya))).toMatchObject({ result: ['09:00', '11:00'].map(s.at), hits: 0, computations: 1 });
    expect(await availabilityCost(() => startTimes(s, service, priya))).toEqual({ result: ['09:00', '11:00'].map(s.at), hits: 1, computations: 0, statements: 0 });

    const moved = succeeded(await api.gql(RESCHEDULE, { input: { bookingId: booking.id, startsAt: s.at('11:00') } }, { token: tokens.customer }), 'bookingReschedule').booking;
    expect(moved).toMatchObject({ status: 'CONFIRMED', startsAt: s.at('11:00'), endsAt: s.at('12:00'), partner: { id: priya.gid, activeBookingCount: 2 } });
    expect(slotStarts(moved)).toEqual([`${s.at('11:00')} BOOKED`, `${s.at('11:30')} BOOKED`]);
    expect(moved.payments).toEqual([{ id: payment.gid, status: 'SUCCEEDED', amountCents: 6500, currency: 'GBP' }]);
    // The old start is free again and the new one is gone, on the very next read.
    const after = await availabilityCost(() => startTimes(s, service, priya));
    // One computation: the business, the service, the slots around the date (with the partners'
    // booking counts), the partners, all from the primary (never from the catalog cache).
    expect(after).toEqual({ result: ['09:00', '09:30', '10:00'].map(s.at), hits: 0, computations: 1, statements: 4 });

    // Completing is allowed on a confirmed booking whatever the time: the state machine has no clock.
    const completed = succeeded(await api.gql(COMPLETE, { input: { bookingId: booking.id } }, { token: tokens.partner }), 'bookingComplete').booking;
    expect(completed).toMatchObject({ status: 'COMPLETED', startsAt: s.at('11:00'), partner: { id: priya.gid, activeBookingCount: 1 } });
    expect(slotStarts(completed)).toEqual([`${s.at('11:00')} BOOKED`, `${s.at('11:30')} BOOKED`]);
    expect(await startTimes(s, service, priya)).toEqual(['09:00', '09:30', '10:00'].map(s.at));

    const bookingId = rawIdOf(booking.id, 'Booking')!;
    expect(await trail(bookingId)).toEqual([
      'booking.created by customer:customer-1',
      'booking.confirmed by provider:test',
      'booking.rescheduled by customer:customer-1',
      'booking.completed by partner:partner-1',
    ]);
    expect((await auditRows(api.db, bookingId))[2].changes).toMatchObject({ before: { startsAt: s.at('10:00') }, after: { startsAt: s.at('11:00') } });
    expect(await trail(payment.id, 'payment')).toEqual(['payment.created by customer:customer-1', 'payment.succeeded by provider:test']);
    expect(await trail(rawIdOf(held.id, 'SlotHold')!, 'hold')).toEqual(['hold.created by customer:customer-1', 'hold.consumed by customer:customer-1']);
  });

  it('driving school (Toronto, CAD): books a 90-minute lesson (three slots) made from the instructor\'s schedule, pays, is moved by the instructor and completed', async () => {
    const s = await businessScene('driving_school', 'Toronto', 'America/Toronto', 'CAD');
    const lesson = await createService(api.db, s.business, { name: 'Extended driving lesson', durationMinutes: 90, priceCents: 9500 });
    const daniel = await createPartner(api.db, s.business, { name: 'Daniel Tremblay', city: 'Toronto' });
    const customer = await createCustomer(api.db, s.business, { name: 'Ethan Roy' });
    const tokens = await tokensFor(api, { businessGid: s.business.gid, partnerGid: daniel.gid, customerGid: customer.gid });

    // Hours on the flow's day only (effective that one date), then its slots: 09:00 to 13:00, eight of 30 minutes.
    const dayOfWeek = DAYS_OF_WEEK[new Date(`${s.date}T00:00:00Z`).getUTCDay()];
    succeeded(await api.gql(SCHEDULE_SET, { input: { partnerId: daniel.gid, effectiveFrom: s.date, effectiveTo: s.date, weeklyHours: [{ dayOfWeek, startTime: '09:00', endTime: '13:00' }] } }, { token: tokens.staff }), 'partnerScheduleSet');
    expect(succeeded(await api.gql(GENERATE, { input: { partnerId: daniel.gid, from: s.date, to: s.date } }, { token: tokens.staff }), 'slotsGenerate').slotsCreated).toBe(8);

    expect(await startsOn(s, lesson)).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00', '11:30'].map((time) => ({ startsAt: s.at(time), partners: [daniel.gid] })));
    const held = await hold(tokens.customer!, { serviceId: lesson.gid, startsAt: s.at('09:00') });
    expect(held).toMatchObject({ partner: { id: daniel.gid }, endsAt: s.at('10:30') });
    expect(slotStarts(held)).toEqual(['09:00', '09:30', '10:00'].map((time) => `${s.at(time)} HELD`));
    expect(await startTimes(s, lesson)).toEqual(['10:30', '11:00', '11:30'].map(s.at));

    const booking = await book(tokens.customer!, { holdId: held.id });
    expect(booking).toMatchObject({ status: 'PENDING', startsAt: s.at('09:00'), endsAt: s.at('10:30'), totalCents: 9500, currency: 'CAD', service: { id: lesson.gid }, partner: { id: daniel.gid, activeBookingCount: 1 } });
    expect(slotStarts(booking)).toEqual(['09:00', '09:30', '10:00'].map((time) => `${s.at(time)} BOOKED`));
    const payment = await payAndConfirm(tokens.customer!, booking);

    const moved = succeeded(await api.gql(RESCHEDULE, { input: { bookingId: booking.id, startsAt: s.at('11:00') } }, { token: tokens.partner }), 'bookingReschedule').booking;
    expect(moved).toMatchObject({ status: 'CONFIRMED', startsAt: s.at('11:00'), endsAt: s.at('12:30'), partner: { id: daniel.gid, activeBookingCount: 1 } });
    expect(slotStarts(moved)).toEqual(['11:00', '11:30', '12:00'].map((time) => `${s.at(time)} BOOKED`));
    // 09:00 is back; 11:00 is gone, and 12:30 alone is too short for a lesson.
    expect(await startTimes(s, lesson)).toEqual(['09:00', '09:30'].map(s.at));

    const completed = succeeded(await api.gql(COMPLETE, { input: { bookingId: booking.id } }, { token: tokens.partner }), 'bookingComplete').booking;
    expect(completed).toMatchObject({ status: 'COMPLETED', partner: { id: daniel.gid, activeBookingCount: 0 }, payments: [{ status: 'SUCCEEDED', amountCents: 9500, currency: 'CAD' }] });

    expect(await trail(rawIdOf(booking.id, 'Booking')!)).toEqual([
      'booking.created by customer:customer-1',
      'booking.confirmed by provider:test',
      'booking.rescheduled by partner:partner-1',
      'booking.completed by partner:partner-1',
    ]);
    expect(await trail(payment.id, 'payment')).toEqual(['payment.created by customer:customer-1', 'payment.succeeded by provider:test']);
    expect(await trail(daniel.id, 'partner')).toEqual(['partner.schedule_changed by staff:staff-1', 'slots.generated by staff:staff-1']);
  });

  it('barber shop (New York, USD): books by slot IDs, pays, cancels inside the window and is refunded in full', async () => {
    const s = await businessScene('barber_shop', 'New York', 'America/New_York', 'USD');
    const haircut = await createService(api.db, s.business, { name: 'Classic haircut', durationMinutes: 30, priceCents: 3500 });
    const haircutAndBeard = await createService(api.db, s.business, { name: 'Haircut and beard', durationMinutes: 60, priceCents: 5500 });
    const tony = await createPartner(api.db, s.business, { name: 'Tony Russo', city: 'New York' });
    const malik = await createPartner(api.db, s.business, { name: 'Malik Johnson', city: 'New York' });
    const tonySlots = await createSlots(api.db, s.business, tony, new Date(s.at('09:00')), 6);
    await createSlots(api.db, s.business, malik, new Date(s.at('09:00')), 6);
    const customer = await createCustomer(api.db, s.business, { name: 'Marcus Williams' });
    const tokens = await tokensFor(api, { businessGid: s.business.gid, partnerGid: tony.gid, customerGid: customer.gid });

    expect(await startTimes(s, haircutAndBeard, tony)).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00'].map(s.at));
    // Two slots of Tony's, 10:00 and 10:30: the one 60-minute service is the service they cover.
    const chosen = tonySlots.slice(2, 4).map((slot) => slot.gid);
    const held = await hold(tokens.customer!, { slotIds: chosen });
    expect(held).toMatchObject({ startsAt: s.at('10:00'), endsAt: s.at('11:00'), partner: { id: tony.gid }, service: { id: haircutAndBeard.gid } });
    const booking = await book(tokens.customer!, { holdId: held.id, slotIds: chosen });
    expect(booking).toMatchObject({ status: 'PENDING', totalCents: 5500, currency: 'USD', service: { id: haircutAndBeard.gid }, partner: { id: tony.gid, activeBookingCount: 1 } });
    expect(booking.slots.map((slot: { id: string }) => slot.id)).toEqual(chosen);
    expect(await startTimes(s, haircut, tony)).toEqual(['09:00', '09:30', '11:00', '11:30'].map(s.at));
    const payment = await payAndConfirm(tokens.customer!, booking);

    // Two days ahead, inside the default window of 1440 minutes: the cancellation refunds before it returns.
    const cancelled = succeeded(await api.gql(CANCEL, { input: { bookingId: booking.id, reason: 'Out of town' } }, { token: tokens.customer }), 'bookingCancel').booking;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelReason: 'Out of town', slots: [], partner: { id: tony.gid, activeBookingCount: 0 } });
    expect(cancelled.payments).toEqual([{ id: payment.gid, status: 'REFUNDED', amountCents: 5500, currency: 'USD' }]);
    expect(refundsOf(payment.txnId)).toMatchObject([{ amountCents: 5500, currency: 'USD', idempotencyKey: `refund:${payment.id}` }]);
    // The provider's own refund event, arriving later, finds the refund recorded.
    expect(await deliver(api, testProviderOf(api).signedEvent({ type: 'payment.refunded', txnId: payment.txnId, amountCents: 5500 }))).toEqual({ status: 200, body: { received: true, outcome: 'unchanged' } });
    expect(await startTimes(s, haircut, tony)).toEqual(['09:00', '09:30', '10:00', '10:30', '11:00', '11:30'].map(s.at));

    expect(await trail(rawIdOf(booking.id, 'Booking')!)).toEqual(['booking.created by customer:customer-1', 'booking.confirmed by provider:test', 'booking.cancelled by customer:customer-1']);
    expect(await trail(payment.id, 'payment')).toEqual([
      'payment.created by customer:customer-1',
      'payment.succeeded by provider:test',
      'payment.refunded by system:cancellation-refund',
    ]);
  });

  it('appointments (Sydney, AUD): keeps the buffer before a booked session free, pays, cancels inside a short window with a refund and frees the day again', async () => {
    const s = await businessScene('appointments', 'Sydney', 'Australia/Sydney', 'AUD');
    const checkIn = await createService(api.db, s.business, { name: 'Brief check-in', durationMinutes: 30, priceCents: 9500 });
    await api.db.updateTable('services').set({ buffer_after_minutes: 30 }).where('id', '=', checkIn.id).execute();
    const doctor = await createPartner(api.db, s.business, { name: 'Dr Hannah Wright', city: 'Sydney' });
    await createSlots(api.db, s.business, doctor, new Date(s.at('09:00')), 6);
    const customer = await createCustomer(api.db, s.business, { name: 'Charlotte Nguyen' });
    const tokens = await tokensFor(api, { businessGid: s.business.gid, partnerGid: doctor.gid, customerGid: customer.gid });
    await setCancellationWindow(api.db, s.business, 60);
    const wholeDay = ['09:00', '09:30', '10:00', '10:30', '11:00', '11:30'].map(s.at);

    // Time after the last slot counts as free, so 11:30 fits with its buffer.
    expect(await startTimes(s, checkIn)).toEqual(wholeDay);
    const held = await hold(tokens.customer!, { serviceId: checkIn.gid, startsAt: s.at('10:00') });
    expect(held).toMatchObject({ partner: { id: doctor.gid }, startsAt: s.at('10:00'), endsAt: s.at('10:30') });
    const booking = await book(tokens.customer!, { holdId: held.id, serviceId: checkIn.gid });
    expect(booking).toMatchObject({ status: 'PENDING', totalCents: 9500, currency: 'AUD', partner: { id: doctor.gid, activeBookingCount: 1 } });
    // 09:30 would end at 10:00, back to back with the booking: its 30-minute buffer after is not free.
    // 10:30 is offered: only a candidate's own buffers are checked (README), not the 30 minutes the booked session needs after it.
    expect(await startTimes(s, checkIn)).toEqual(['09:00', '10:30', '11:00', '11:30'].map(s.at));

    const payment = await payAndConfirm(tokens.customer!, booking);
    expect(await startTimes(s, checkIn)).toEqual(['09:00', '10:30', '11:00', '11:30'].map(s.at));

    const cancelled = succeeded(await api.gql(CANCEL, { input: { bookingId: booking.id } }, { token: tokens.customer }), 'bookingCancel').booking;
    expect(cancelled).toMatchObject({ status: 'CANCELLED', cancelReason: null, slots: [], partner: { id: doctor.gid, activeBookingCount: 0 } });
    expect(cancelled.payments).toEqual([{ id: payment.gid, status: 'REFUNDED', amountCents: 9500, currency: 'AUD' }]);
    expect(refundsOf(payment.txnId)).toMatchObject([{ amountCents: 9500, currency: 'AUD', idempotencyKey: `refund:${payment.id}` }]);
    expect(await startTimes(s, checkIn)).toEqual(wholeDay);

    expect(await trail(rawIdOf(booking.id, 'Booking')!)).toEqual(['booking.created by customer:customer-1', 'booking.confirmed by provider:test', 'booking.cancelled by customer:customer-1']);
    expect(await trail(payment.id, 'payment')).toEqual([
      'payment.created by customer:customer-1',
      'payment.succeeded by provider:test',
      'payment.refunded by system:cancellation-refund',
    ]);
  });
});
