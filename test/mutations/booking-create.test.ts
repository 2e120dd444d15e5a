import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawIdOf, toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type GraphQLResponse, type TestApi } from '../support/api.js';
import {
  auditRows,
  bookingState,
  businessState,
  createBookableBusiness,
  createBooking,
  createBusiness,
  createCustomer,
  createPartner,
  createService,
  createSlots,
  type BuiltPartner,
  type BuiltSlot,
} from '../support/builders.js';

const CREATE = `mutation($input: BookingCreateInput!) {
  bookingCreate(input: $input) {
    booking {
      id status totalCents currency startsAt endsAt cancelReason
      customer { id } service { id } partner { id activeBookingCount } slots { id status }
    }
    userErrors { field message code }
  }
}`;

const HOUR = 3600_000;

describe('Mutation: bookingCreate', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /**
   * A salon with a 30-minute service and `partners` partners of 8 slots of 30 minutes from tomorrow
   * 09:00 UTC (slots[2] starts at 10:00), a customer, and tokens for its roles (the partner is partners[0]).
   */
  async function scene(options: { partners?: number; durationMinutes?: number; slotCount?: number } = {}) {
    const built = await createBookableBusiness(api.db, options);
    const tokens = await tokensFor(api, { businessGid: built.business.gid, partnerGid: built.partners[0].gid, customerGid: built.customer.gid });
    return { ...built, tokens };
  }
  type Scene = Awaited<ReturnType<typeof scene>>;

  /** A second business with its own service, partner and slots at the same times: objects the scene's caller must not reach. */
  async function otherTenant(s: Scene) {
    const business = await createBusiness(api.db);
    const service = await createService(api.db, business, { durationMinutes: 30 });
    const partner = await createPartner(api.db, business);
    const slots = await createSlots(api.db, business, partner, s.start, 4);
    const customer = await createCustomer(api.db, business);
    const staff = (await tokensFor(api, { businessGid: business.gid })).staff;
    return { business, service, partner, slots, customer, staff };
  }

  function create(input: Record<string, unknown>, token: string | undefined) {
    return api.gql(CREATE, { input }, { token });
  }

  /** Asserts a successful create and returns the booking's raw id and payload. */
  function created(res: GraphQLResponse) {
    expect(res.errors).toBeUndefined();
    expect(res.data.bookingCreate.userErrors).toEqual([]);
    const booking = res.data.bookingCreate.booking;
    const id = rawIdOf(booking.id, 'Booking');
    expect(id).not.toBeNull();
    return { id: id!, booking };
  }

  /** Runs a create that must be refused with `code` (at `field`), and proves that nothing in the business changed. */
  async function expectRefused(s: { business: { id: string } }, code: string, field: string[] | null, run: () => Promise<GraphQLResponse>) {
    const before = await businessState(api.db, s.business.id);
    const res = await run();
    expect(res.errors).toBeUndefined();
    expect(res.data.bookingCreate).toEqual({ booking: null, userErrors: [{ field, message: expect.any(String), code }] });
    expect(await businessState(api.db, s.business.id)).toEqual(before);
    return res.data.bookingCreate.userErrors[0].message as string;
  }

  /** Runs a create that must be refused with a top-level error `code`, and proves that nothing in the business changed. */
  async function expectTopLevelError(s: { business: { id: string } }, code: string, run: () => Promise<GraphQLResponse>) {
    const before = await businessState(api.db, s.business.id);
    const res = await run();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    expect(res.data ?? null).toBeNull();
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  }

  /** Gives `partner` `count` live bookings at 13:00 onwards (after the scene's slots), so that they count as busier. */
  async function makeBusy(s: Scene, partner: BuiltPartner, count: number) {
    const later = await createSlots(api.db, s.business, partner, new Date(s.start.getTime() + 6 * HOUR), count);
    for (const slot of later) {
      await createBooking(api.db, { business: s.business, service: s.service, partner, customer: s.customer, slots: [slot] });
    }
  }

  const ids = (slots: BuiltSlot[]) => slots.map((slot) => slot.gid);

  describe('who may book', () => {
    it('refuses an anonymous caller with UNAUTHENTICATED and creates nothing', async () => {
      const s = await scene();
      await expectTopLevelError(s, 'UNAUTHENTICATED', () => create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, undefined));
    });

    it('refuses a partner with FORBIDDEN and creates nothing', async () => {
      const s = await scene();
      await expectTopLevelError(s, 'FORBIDDEN', () =>
        create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid, customerId: s.customer.gid }, s.tokens.partner),
      );
    });

    it('lets a customer book for themself without naming the customer', async () => {
      const s = await scene();
      const { booking } = created(await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, s.tokens.customer));
      expect(booking.customer).toEqual({ id: s.customer.gid });
    });

    it('lets a customer name themself as the customer', async () => {
      const s = await scene();
      const { booking } = created(
        await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid, customerId: s.customer.gid }, s.tokens.customer),
      );
      expect(booking.customer).toEqual({ id: s.customer.gid });
    });

    it('answers NOT_FOUND when a customer books for another customer, even of the same business', async () => {
      const s = await scene();
      const other = await createCustomer(api.db, s.business);
      await expectRefused(s, 'NOT_FOUND', ['input', 'customerId'], () =>
        create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid, customerId: other.gid }, s.tokens.customer),
      );
    });

    it('lets staff book on behalf of a customer of their business, recorded as done by staff', async () => {
      const s = await scene();
      const { id, booking } = created(
        await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid, customerId: s.customer.gid }, s.tokens.staff),
      );
      expect(booking.customer).toEqual({ id: s.customer.gid });
      expect(await auditRows(api.db, id)).toMatchObject([{ action: 'booking.created', actor: 'staff:staff-1' }]);
    });

    it('lets an admin book on behalf of a customer of any business', async () => {
      const s = await scene();
      const { id } = created(
        await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid, customerId: s.customer.gid }, s.tokens.admin),
      );
      expect((await bookingState(api.db, id)).booking).toMatchObject({ customerId: s.customer.id, status: 'pending' });
      expect(await auditRows(api.db, id)).toMatchObject([{ action: 'booking.created', actor: 'admin:admin-1' }]);
    });

    it('asks staff and admins for customerId with INVALID_INPUT when it is missing', async () => {
      const s = await scene();
      for (const token of [s.tokens.staff, s.tokens.admin]) {
        await expectRefused(s, 'INVALID_INPUT', ['input', 'customerId'], () =>
          create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, token),
        );
      }
    });

    it('answers NOT_FOUND when staff book for a customer of another business, or for a malformed customer ID', async () => {
      const s = await scene();
      const other = await otherTenant(s);
      for (const customerId of [other.customer.gid, 'not-an-id', toGlobalId('Customer', '9000000000000000000'), s.service.gid]) {
        await expectRefused(s, 'NOT_FOUND', ['input', 'customerId'], () =>
          create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid, customerId }, s.tokens.staff),
        );
      }
      expect((await businessState(api.db, other.business.id)).bookings).toEqual([]);
    });
  });

  describe('with a service, a start time and a partner', () => {
    it('books a 60-minute service on the partner’s two slots from the start time, at the service’s price, and counts and audits it', async () => {
      const s = await scene({ durationMinutes: 60 });
      const partner = s.partners[0];
      const res = await create({ serviceId: s.service.gid, startsAt: partner.slots[2].startsAt, partnerId: partner.gid }, s.tokens.customer);
      const { id, booking } = created(res);
      expect(booking).toEqual({
        id: toGlobalId('Booking', id),
        status: 'PENDING',
        totalCents: s.service.priceCents,
        currency: 'EUR',
        startsAt: partner.slots[2].startsAt,
        endsAt: partner.slots[3].endsAt,
        cancelReason: null,
        customer: { id: s.customer.gid },
        service: { id: s.service.gid },
        partner: { id: partner.gid, activeBookingCount: 1 },
        slots: [
          { id: partner.slots[2].gid, status: 'BOOKED' },
          { id: partner.slots[3].gid, status: 'BOOKED' },
        ],
      });

      const state = await bookingState(api.db, id);
      expect(state.booking).toMatchObject({ status: 'pending', partnerId: partner.id, customerId: s.customer.id, serviceId: s.service.id, totalCents: s.service.priceCents, cancelReason: null });
      expect(state.slots.map((slot) => [slot.id, slot.status])).toEqual([
        [partner.slots[2].id, 'booked'],
        [partner.slots[3].id, 'booked'],
      ]);
      expect(state.partnerActiveCount).toBe(1);
      // The neighbours are untouched.
      const neighbours = await businessState(api.db, s.business.id);
      expect(neighbours.slots.filter((slot) => slot.status !== 'available').map((slot) => slot.id)).toEqual([partner.slots[2].id, partner.slots[3].id]);

      const audit = await auditRows(api.db, id);
      expect(audit).toEqual([
        {
          businessId: s.business.id,
          entity: 'booking',
          action: 'booking.created',
          actor: 'customer:customer-1',
          changes: expect.objectContaining({ after: expect.objectContaining({ status: 'PENDING', partnerId: partner.id, slotIds: [partner.slots[2].id, partner.slots[3].id] }) }),
        },
      ]);
    });

    it('accepts a start time written with an offset and books the same instant', async () => {
      const s = await scene();
      const tenOClock = new Date(s.partners[0].slots[2].startsAt);
      const withOffset = `${new Date(tenOClock.getTime() + HOUR).toISOString().slice(0, 19)}+01:00`;
      const { booking } = created(await create({ serviceId: s.service.gid, startsAt: withOffset, partnerId: s.partners[0].gid }, s.tokens.customer));
      expect(booking.startsAt).toBe(s.partners[0].slots[2].startsAt);
      expect(booking.slots).toEqual([{ id: s.partners[0].slots[2].gid, status: 'BOOKED' }]);
    });

    it('refuses a start time that is not the start of a slot with SLOT_UNAVAILABLE', async () => {
      const s = await scene();
      const quarterPast = new Date(Date.parse(s.partners[0].slots[2].startsAt) + 15 * 60_000).toISOString();
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => create({ serviceId: s.service.gid, startsAt: quarterPast, partnerId: s.partners[0].gid }, s.tokens.customer));
    });

    it('refuses a range that runs past the partner’s last slot with SLOT_UNAVAILABLE', async () => {
      const s = await scene({ durationMinutes: 60 });
      const last = s.partners[0].slots[7];
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => create({ serviceId: s.service.gid, startsAt: last.startsAt, partnerId: s.partners[0].gid }, s.tokens.customer));
    });

    it('refuses a range with a blocked slot in it with SLOT_UNAVAILABLE', async () => {
      const s = await scene({ durationMinutes: 90 });
      await api.db.updateTable('partner_slots').set({ status: 'blocked' }).where('id', '=', s.partners[0].slots[3].id).execute();
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () =>
        create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, s.tokens.customer),
      );
    });

    it('refuses a range overlapping another booking of the partner with SLOT_UNAVAILABLE', async () => {
      const s = await scene({ durationMinutes: 60 });
      const partner = s.partners[0];
      await createBooking(api.db, { business: s.business, service: s.service, partner, customer: s.customer, slots: partner.slots.slice(3, 5) });
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => create({ serviceId: s.service.gid, startsAt: partner.slots[2].startsAt, partnerId: partner.gid }, s.tokens.customer));
    });

    it('refuses with SLOT_UNAVAILABLE when a live booking overlaps although its slots read free (the exclusion constraint is the last line of defence)', async () => {
      const s = await scene();
      const partner = s.partners[0];
      // A live booking whose slots were (wrongly) freed: the slot claim succeeds, the insert must not.
      await createBooking(api.db, { business: s.business, service: s.service, partner, customer: s.customer, slots: [partner.slots[2]] });
      await api.db.updateTable('partner_slots').set({ status: 'available', booking_id: null }).where('id', '=', partner.slots[2].id).execute();
      await expectRefused(s, 'SLOT_UNAVAILABLE', null, () => create({ serviceId: s.service.gid, startsAt: partner.slots[2].startsAt, partnerId: partner.gid }, s.tokens.customer));
    });

    it('refuses an inactive service with SERVICE_INACTIVE', async () => {
      const s = await scene();
      const inactive = await createService(api.db, s.business, { durationMinutes: 30, isActive: false });
      await expectRefused(s, 'SERVICE_INACTIVE', ['input', 'serviceId'], () => create({ serviceId: inactive.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, s.tokens.customer));
    });

    it('refuses an inactive partner with PARTNER_INACTIVE', async () => {
      const s = await scene();
      await api.db.updateTable('partners').set({ is_active: false }).where('id', '=', s.partners[0].id).execute();
      await expectRefused(s, 'PARTNER_INACTIVE', ['input', 'partnerId'], () => create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, s.tokens.customer));
    });

    it('answers NOT_FOUND for an unknown, malformed or other business’s service', async () => {
      const s = await scene();
      const other = await otherTenant(s);
      for (const serviceId of [toGlobalId('Service', '9000000000000000000'), 'garbage', s.partners[0].gid, other.service.gid]) {
        await expectRefused(s, 'NOT_FOUND', ['input', 'serviceId'], () => create({ serviceId, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, s.tokens.customer));
      }
      expect((await businessState(api.db, other.business.id)).bookings).toEqual([]);
    });

    it('answers NOT_FOUND for an unknown, malformed or other business’s partner', async () => {
      const s = await scene();
      const other = await otherTenant(s);
      for (const partnerId of [toGlobalId('Partner', '9000000000000000000'), 'garbage', s.service.gid, other.partner.gid]) {
        await expectRefused(s, 'NOT_FOUND', ['input', 'partnerId'], () => create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId }, s.tokens.customer));
      }
      expect((await businessState(api.db, other.business.id)).slots.every((slot) => slot.status === 'available')).toBe(true);
    });

    it('refuses an available slot in the past with IN_THE_PAST', async () => {
      const s = await scene();
      const yesterday = new Date(s.start.getTime() - 48 * HOUR);
      const [past] = await createSlots(api.db, s.business, s.partners[0], yesterday, 1);
      await expectRefused(s, 'IN_THE_PAST', ['input', 'startsAt'], () => create({ serviceId: s.service.gid, startsAt: past.startsAt, partnerId: s.partners[0].gid }, s.tokens.customer));
    });

    it('refuses a request without slotIds nor both serviceId and startsAt with INVALID_INPUT', async () => {
      const s = await scene();
      const startsAt = s.partners[0].slots[2].startsAt;
      await expectRefused(s, 'INVALID_INPUT', ['input', 'startsAt'], () => create({ serviceId: s.service.gid, partnerId: s.partners[0].gid }, s.tokens.customer));
      await expectRefused(s, 'INVALID_INPUT', ['input', 'serviceId'], () => create({ startsAt, partnerId: s.partners[0].gid }, s.tokens.customer));
      await expectRefused(s, 'INVALID_INPUT', ['input', 'serviceId'], () => create({}, s.tokens.customer));
      await expectRefused(s, 'INVALID_INPUT', ['input', 'serviceId'], () => create({ slotIds: [], startsAt }, s.tokens.customer));
    });
  });

  describe('with a service and a start time but no partner', () => {
    it('assigns the active partner with the fewest active bookings', async () => {
      const s = await scene({ partners: 3 });
      await makeBusy(s, s.partners[0], 2);
      await makeBusy(s, s.partners[2], 1);
      const { id, booking } = created(await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt }, s.tokens.customer));
      expect(booking.partner).toEqual({ id: s.partners[1].gid, activeBookingCount: 1 });
      expect(booking.slots).toEqual([{ id: s.partners[1].slots[2].gid, status: 'BOOKED' }]);
      expect((await bookingState(api.db, id)).partnerActiveCount).toBe(1);
      const partners = (await businessState(api.db, s.business.id)).partners;
      expect(partners.map((p) => p.active_booking_count)).toEqual([2, 1, 1]);
    });

    it('breaks a tie in active bookings by the lower partner id', async () => {
      const s = await scene({ partners: 3 });
      await makeBusy(s, s.partners[0], 1);
      const { booking } = created(await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt }, s.tokens.customer));
      const lowest = [s.partners[1], s.partners[2]].sort((a, b) => Number(a.id) - Number(b.id))[0];
      expect(booking.partner.id).toBe(lowest.gid);
    });

    it('passes over a less busy partner who is not free for the whole range', async () => {
      const s = await scene({ partners: 2, durationMinutes: 60 });
      await makeBusy(s, s.partners[0], 3);
      // partners[1] is the least busy, but the second half of 10:00–11:00 is blocked.
      await api.db.updateTable('partner_slots').set({ status: 'blocked' }).where('id', '=', s.partners[1].slots[3].id).execute();
      const { booking } = created(await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt }, s.tokens.customer));
      expect(booking.partner).toEqual({ id: s.partners[0].gid, activeBookingCount: 4 });
      expect(booking.slots.map((slot: { id: string }) => slot.id)).toEqual(ids(s.partners[0].slots.slice(2, 4)));
    });

    it('never assigns an inactive partner, however free', async () => {
      const s = await scene({ partners: 2 });
      await makeBusy(s, s.partners[1], 5);
      await api.db.updateTable('partners').set({ is_active: false }).where('id', '=', s.partners[0].id).execute();
      const { booking } = created(await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt }, s.tokens.customer));
      expect(booking.partner.id).toBe(s.partners[1].gid);
    });

    it('only assigns a partner working in the given city', async () => {
      const s = await scene();
      const hamburg = await createPartner(api.db, s.business, { city: 'Hamburg' });
      const hamburgSlots = await createSlots(api.db, s.business, hamburg, s.start, 8);
      await makeBusy(s, hamburg, 2);
      const { booking } = created(await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, city: 'Hamburg' }, s.tokens.customer));
      expect(booking.partner.id).toBe(hamburg.gid);
      expect(booking.slots).toEqual([{ id: hamburgSlots[2].gid, status: 'BOOKED' }]);
    });

    it('answers SLOT_UNAVAILABLE when no partner in the city is free, changing nothing', async () => {
      const s = await scene({ partners: 2 });
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, city: 'Munich' }, s.tokens.customer));
    });

    it('answers SLOT_UNAVAILABLE when every partner is taken, blocked or inactive at that time, changing nothing', async () => {
      const s = await scene({ partners: 3 });
      await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[0], customer: s.customer, slots: [s.partners[0].slots[2]] });
      await api.db.updateTable('partner_slots').set({ status: 'blocked' }).where('id', '=', s.partners[1].slots[2].id).execute();
      await api.db.updateTable('partners').set({ is_active: false }).where('id', '=', s.partners[2].id).execute();
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], () => create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt }, s.tokens.customer));
    });
  });

  describe('with slot IDs', () => {
    it('books consecutive slots with the service given, whatever order the IDs come in', async () => {
      const s = await scene({ durationMinutes: 60 });
      const partner = s.partners[0];
      const { id, booking } = created(await create({ slotIds: [partner.slots[5].gid, partner.slots[4].gid], serviceId: s.service.gid }, s.tokens.customer));
      expect(booking).toMatchObject({ status: 'PENDING', startsAt: partner.slots[4].startsAt, endsAt: partner.slots[5].endsAt, partner: { id: partner.gid, activeBookingCount: 1 }, totalCents: s.service.priceCents });
      const state = await bookingState(api.db, id);
      expect(state.slots.map((slot) => [slot.id, slot.status])).toEqual([
        [partner.slots[4].id, 'booked'],
        [partner.slots[5].id, 'booked'],
      ]);
      expect(await auditRows(api.db, id)).toMatchObject([{ entity: 'booking', action: 'booking.created', actor: 'customer:customer-1' }]);
    });

    it('books with the partnerId of the slots’ partner', async () => {
      const s = await scene();
      const { booking } = created(await create({ slotIds: [s.partners[0].slots[1].gid], partnerId: s.partners[0].gid }, s.tokens.customer));
      expect(booking.partner.id).toBe(s.partners[0].gid);
    });

    it('picks the one active service whose duration the slots cover when no service is given', async () => {
      const s = await scene();
      const hour = await createService(api.db, s.business, { durationMinutes: 60, priceCents: 6000 });
      await createService(api.db, s.business, { durationMinutes: 60, isActive: false });
      const { id, booking } = created(await create({ slotIds: ids(s.partners[0].slots.slice(2, 4)) }, s.tokens.customer));
      expect(booking).toMatchObject({ service: { id: hour.gid }, totalCents: 6000 });
      expect((await bookingState(api.db, id)).slots).toHaveLength(2);
    });

    it('counts a slot ID given twice once', async () => {
      const s = await scene();
      const slot = s.partners[0].slots[2];
      const { booking } = created(await create({ slotIds: [slot.gid, slot.gid] }, s.tokens.customer));
      expect(booking.slots).toEqual([{ id: slot.gid, status: 'BOOKED' }]);
    });

    it('asks for serviceId with INVALID_INPUT when several active services take the slots’ total', async () => {
      const s = await scene();
      await createService(api.db, s.business, { durationMinutes: 30 });
      await expectRefused(s, 'INVALID_INPUT', ['input', 'serviceId'], () => create({ slotIds: [s.partners[0].slots[2].gid] }, s.tokens.customer));
    });

    it('asks for serviceId with INVALID_INPUT when no active service takes the slots’ total', async () => {
      const s = await scene();
      await expectRefused(s, 'INVALID_INPUT', ['input', 'serviceId'], () => create({ slotIds: ids(s.partners[0].slots.slice(2, 5)) }, s.tokens.customer));
    });

    it('refuses slots of two partners with MISMATCH', async () => {
      const s = await scene({ partners: 2, durationMinutes: 60 });
      await expectRefused(s, 'MISMATCH', ['input', 'slotIds'], () =>
        create({ slotIds: [s.partners[0].slots[2].gid, s.partners[1].slots[3].gid], serviceId: s.service.gid }, s.tokens.customer),
      );
    });

    it('refuses slots with a gap between them with MISMATCH, even when a service would fit the whole span', async () => {
      const s = await scene({ durationMinutes: 60 });
      await createService(api.db, s.business, { durationMinutes: 90 });
      const gapped = [s.partners[0].slots[2].gid, s.partners[0].slots[4].gid];
      await expectRefused(s, 'MISMATCH', ['input', 'slotIds'], () => create({ slotIds: gapped, serviceId: s.service.gid }, s.tokens.customer));
      await expectRefused(s, 'MISMATCH', ['input', 'slotIds'], () => create({ slotIds: gapped }, s.tokens.customer));
    });

    it('refuses a service whose duration is not the slots’ total with MISMATCH', async () => {
      const s = await scene({ durationMinutes: 60 });
      await expectRefused(s, 'MISMATCH', ['input', 'slotIds'], () => create({ slotIds: ids(s.partners[0].slots.slice(2, 5)), serviceId: s.service.gid }, s.tokens.customer));
    });

    it('refuses a partnerId other than the slots’ partner with MISMATCH', async () => {
      const s = await scene({ partners: 2 });
      await expectRefused(s, 'MISMATCH', ['input', 'partnerId'], () => create({ slotIds: [s.partners[0].slots[2].gid], partnerId: s.partners[1].gid }, s.tokens.customer));
    });

    it('refuses a booked slot with SLOT_UNAVAILABLE', async () => {
      const s = await scene({ durationMinutes: 60 });
      const partner = s.partners[0];
      await createBooking(api.db, { business: s.business, service: s.service, partner, customer: s.customer, slots: partner.slots.slice(3, 5) });
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'slotIds'], () => create({ slotIds: ids(partner.slots.slice(2, 4)), serviceId: s.service.gid }, s.tokens.customer));
    });

    it('refuses a blocked slot with SLOT_UNAVAILABLE', async () => {
      const s = await scene();
      const [blocked] = await createSlots(api.db, s.business, s.partners[0], new Date(s.start.getTime() + 5 * HOUR), 1, { status: 'blocked' });
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'slotIds'], () => create({ slotIds: [blocked.gid] }, s.tokens.customer));
    });

    it('refuses the slots of an inactive partner with PARTNER_INACTIVE', async () => {
      const s = await scene();
      await api.db.updateTable('partners').set({ is_active: false }).where('id', '=', s.partners[0].id).execute();
      await expectRefused(s, 'PARTNER_INACTIVE', ['input', 'slotIds'], () => create({ slotIds: [s.partners[0].slots[2].gid] }, s.tokens.customer));
    });

    it('answers NOT_FOUND for an unknown, malformed or other business’s slot', async () => {
      const s = await scene();
      const other = await otherTenant(s);
      for (const bad of [toGlobalId('Slot', '9000000000000000000'), 'garbage', s.partners[0].gid, other.slots[2].gid]) {
        await expectRefused(s, 'NOT_FOUND', ['input', 'slotIds'], () => create({ slotIds: [s.partners[0].slots[1].gid, bad], serviceId: s.service.gid }, s.tokens.customer));
      }
      expect((await businessState(api.db, other.business.id)).slots.every((slot) => slot.status === 'available')).toBe(true);
    });

    it('refuses both slotIds and startsAt with INVALID_INPUT', async () => {
      const s = await scene();
      await expectRefused(s, 'INVALID_INPUT', ['input', 'startsAt'], () =>
        create({ slotIds: [s.partners[0].slots[2].gid], startsAt: s.partners[0].slots[2].startsAt, serviceId: s.service.gid }, s.tokens.customer),
      );
    });

    it('refuses available slots in the past with IN_THE_PAST', async () => {
      const s = await scene();
      const past = await createSlots(api.db, s.business, s.partners[0], new Date(s.start.getTime() - 48 * HOUR), 1);
      await expectRefused(s, 'IN_THE_PAST', ['input', 'slotIds'], () => create({ slotIds: ids(past) }, s.tokens.customer));
    });
  });

  it('writes nothing to the audit trail for a refused request', async () => {
    const s = await scene();
    await createBooking(api.db, { business: s.business, service: s.service, partner: s.partners[0], customer: s.customer, slots: [s.partners[0].slots[2]] });
    const res = await create({ serviceId: s.service.gid, startsAt: s.partners[0].slots[2].startsAt, partnerId: s.partners[0].gid }, s.tokens.customer);
    expect(res.data.bookingCreate.userErrors).toMatchObject([{ code: 'SLOT_UNAVAILABLE' }]);
    const trail = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_logs WHERE business_id = ${s.business.id}::bigint`.execute(api.db);
    expect(trail.rows[0].n).toBe(0);
  });
});
