import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingStatusColumn } from '../../src/db/tables.js';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type GraphQLResponse, type TestApi } from '../support/api.js';
import { bookedScene } from '../support/scenes.js';
import {
  auditRows,
  bookingState,
  businessState,
  createBooking,
  createBusiness,
  createCustomer,
  createPartner,
  createService,
  createSlots,
  type BuiltSlot,
} from '../support/builders.js';

const RESCHEDULE = `mutation($input: BookingRescheduleInput!) {
  bookingReschedule(input: $input) {
    booking { id status startsAt endsAt partner { id activeBookingCount } slots { id status } }
    userErrors { field message code }
  }
}`;

const HOUR = 3600_000;

describe('Mutation: bookingReschedule', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const scene = (status: BookingStatusColumn = 'pending') => bookedScene(api, status);
  type Scene = Awaited<ReturnType<typeof scene>>;

  function reschedule(input: Record<string, unknown>, token: string | undefined) {
    return api.gql(RESCHEDULE, { input }, { token });
  }

  function moved(res: GraphQLResponse) {
    expect(res.errors).toBeUndefined();
    expect(res.data.bookingReschedule.userErrors).toEqual([]);
    return res.data.bookingReschedule.booking;
  }

  /** Runs a reschedule that must be refused with the user error `code`, and proves that the booking, all slots, counts and the trail are exactly as before. */
  async function expectRefused(s: Scene, code: string, field: string[], input: Record<string, unknown>, token: string | undefined) {
    const before = await businessState(api.db, s.business.id);
    const res = await reschedule(input, token);
    expect(res.errors).toBeUndefined();
    expect(res.data.bookingReschedule).toEqual({ booking: null, userErrors: [{ field, message: expect.any(String), code }] });
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  }

  async function expectTopLevelError(s: Scene, code: string, input: Record<string, unknown>, token: string | undefined) {
    const before = await businessState(api.db, s.business.id);
    const res = await reschedule(input, token);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    expect(res.data ?? null).toBeNull();
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  }

  /** The ids of the business's slots that are booked, with the booking holding each. */
  async function bookedSlots(s: Scene) {
    return (await businessState(api.db, s.business.id)).slots.filter((slot) => slot.status === 'booked').map((slot) => [slot.id, slot.booking_id]);
  }

  const held = (slots: BuiltSlot[], bookingId: string) => slots.map((slot) => [slot.id, bookingId]);

  describe('moving in time', () => {
    it('moves a 60-minute booking from 10:00 to 10:30: keeps the shared slot, frees 10:00 and takes 11:00', async () => {
      const s = await scene();
      const booking = moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.partner.slots[3].startsAt }, s.tokens.staff));
      expect(booking).toEqual({
        id: s.booking.gid,
        status: 'PENDING',
        startsAt: s.partner.slots[3].startsAt,
        endsAt: s.partner.slots[4].endsAt,
        partner: { id: s.partner.gid, activeBookingCount: 1 },
        slots: [
          { id: s.partner.slots[3].gid, status: 'BOOKED' },
          { id: s.partner.slots[4].gid, status: 'BOOKED' },
        ],
      });
      const state = await bookingState(api.db, s.booking.id);
      expect(state.booking).toMatchObject({ status: 'pending', partnerId: s.partner.id, startsAt: s.partner.slots[3].startsAt, endsAt: s.partner.slots[4].endsAt });
      expect(state.partnerActiveCount).toBe(1);
      expect(await bookedSlots(s)).toEqual(held(s.partner.slots.slice(3, 5), s.booking.id));
      expect(await auditRows(api.db, s.booking.id)).toEqual([
        {
          businessId: s.business.id,
          entity: 'booking',
          action: 'booking.rescheduled',
          actor: 'staff:staff-1',
          changes: {
            before: { partnerId: s.partner.id, startsAt: s.partner.slots[2].startsAt, endsAt: s.partner.slots[3].endsAt },
            after: { partnerId: s.partner.id, startsAt: s.partner.slots[3].startsAt, endsAt: s.partner.slots[4].endsAt, slotIds: [s.partner.slots[3].id, s.partner.slots[4].id] },
          },
        },
      ]);
    });

    it('moves a booking back by one slot over itself, from 10:00 to 09:30', async () => {
      const s = await scene();
      const booking = moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.partner.slots[1].startsAt }, s.tokens.staff));
      expect(booking).toMatchObject({ startsAt: s.partner.slots[1].startsAt, endsAt: s.partner.slots[2].endsAt });
      expect(await bookedSlots(s)).toEqual(held(s.partner.slots.slice(1, 3), s.booking.id));
    });

    it('moves a booking to a time it does not overlap, freeing all its old slots', async () => {
      const s = await scene();
      moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.partner.slots[6].startsAt }, s.tokens.staff));
      expect(await bookedSlots(s)).toEqual(held(s.partner.slots.slice(6, 8), s.booking.id));
      expect((await bookingState(api.db, s.booking.id)).partnerActiveCount).toBe(1);
    });

    it('keeps a confirmed booking confirmed', async () => {
      const s = await scene('confirmed');
      const booking = moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.partner.slots[4].startsAt }, s.tokens.staff));
      expect(booking.status).toBe('CONFIRMED');
      expect((await bookingState(api.db, s.booking.id)).booking?.status).toBe('confirmed');
    });

    it('moves a booking again and again, holding exactly the slots of its last range', async () => {
      const s = await scene();
      for (const index of [3, 6, 0, 1]) {
        moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.partner.slots[index].startsAt }, s.tokens.staff));
      }
      expect(await bookedSlots(s)).toEqual(held(s.partner.slots.slice(1, 3), s.booking.id));
      expect((await auditRows(api.db, s.booking.id)).map((row) => row.action)).toEqual(Array(4).fill('booking.rescheduled'));
      expect((await bookingState(api.db, s.booking.id)).partnerActiveCount).toBe(1);
    });

    it('lets another customer book the slot a reschedule freed', async () => {
      const s = await scene();
      const half = await createService(api.db, s.business, { durationMinutes: 30 });
      moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.partner.slots[3].startsAt }, s.tokens.staff));
      const res = await api.gql(
        `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { slots { id } } userErrors { code } } }`,
        { input: { slotIds: [s.partner.slots[2].gid], serviceId: half.gid, customerId: (await createCustomer(api.db, s.business)).gid } },
        { token: s.tokens.staff },
      );
      expect(res.data.bookingCreate).toEqual({ booking: { slots: [{ id: s.partner.slots[2].gid }] }, userErrors: [] });
      expect((await bookingState(api.db, s.booking.id)).partnerActiveCount).toBe(2);
    });

    it('answers success and changes nothing when the time and partner stay the same', async () => {
      const s = await scene();
      for (const input of [
        { bookingId: s.booking.gid, startsAt: s.slots[0].startsAt },
        { bookingId: s.booking.gid, startsAt: s.slots[0].startsAt, partnerId: s.partner.gid },
      ]) {
        const before = await businessState(api.db, s.business.id);
        const booking = moved(await reschedule(input, s.tokens.staff));
        expect(booking).toMatchObject({ startsAt: s.slots[0].startsAt, endsAt: s.slots[1].endsAt, partner: { id: s.partner.gid, activeBookingCount: 1 } });
        expect(await businessState(api.db, s.business.id)).toEqual(before);
      }
    });
  });

  describe('moving to another partner', () => {
    it('moves a booking to another partner at the same time, moving the active count with it', async () => {
      const s = await scene();
      const other = s.partners[1];
      const booking = moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.slots[0].startsAt, partnerId: other.gid }, s.tokens.staff));
      expect(booking).toEqual({
        id: s.booking.gid,
        status: 'PENDING',
        startsAt: s.slots[0].startsAt,
        endsAt: s.slots[1].endsAt,
        partner: { id: other.gid, activeBookingCount: 1 },
        slots: other.slots.slice(2, 4).map((slot) => ({ id: slot.gid, status: 'BOOKED' })),
      });
      expect(await bookedSlots(s)).toEqual(held(other.slots.slice(2, 4), s.booking.id));
      expect((await businessState(api.db, s.business.id)).partners.map((p) => [p.id, p.active_booking_count])).toEqual([
        [s.partner.id, 0],
        [other.id, 1],
      ]);
      expect(await auditRows(api.db, s.booking.id)).toMatchObject([{ action: 'booking.rescheduled', changes: { before: { partnerId: s.partner.id }, after: { partnerId: other.id } } }]);
    });

    it('moves a booking to another partner and another time', async () => {
      const s = await scene('confirmed');
      const other = s.partners[1];
      const booking = moved(await reschedule({ bookingId: s.booking.gid, startsAt: other.slots[5].startsAt, partnerId: other.gid }, s.tokens.admin));
      expect(booking).toMatchObject({ status: 'CONFIRMED', startsAt: other.slots[5].startsAt, partner: { id: other.gid, activeBookingCount: 1 } });
      expect(await bookedSlots(s)).toEqual(held(other.slots.slice(5, 7), s.booking.id));
      expect((await businessState(api.db, s.business.id)).partners.map((p) => p.active_booking_count)).toEqual([0, 1]);
    });

    it('refuses a partner moving their booking to another partner with FORBIDDEN and changes nothing', async () => {
      const s = await scene();
      await expectTopLevelError(s, 'FORBIDDEN', { bookingId: s.booking.gid, startsAt: s.slots[0].startsAt, partnerId: s.partners[1].gid }, s.tokens.partner);
    });

    it('refuses an inactive partner with PARTNER_INACTIVE and changes nothing', async () => {
      const s = await scene();
      await api.db.updateTable('partners').set({ is_active: false }).where('id', '=', s.partners[1].id).execute();
      await expectRefused(s, 'PARTNER_INACTIVE', ['input', 'partnerId'], { bookingId: s.booking.gid, startsAt: s.slots[0].startsAt, partnerId: s.partners[1].gid }, s.tokens.staff);
    });

    it('answers NOT_FOUND for an unknown, malformed or other business’s partner', async () => {
      const s = await scene();
      const otherBusiness = await createBusiness(api.db);
      const stranger = await createPartner(api.db, otherBusiness);
      await createSlots(api.db, otherBusiness, stranger, s.start, 8);
      for (const partnerId of [toGlobalId('Partner', '9000000000000000000'), 'garbage', s.service.gid, stranger.gid]) {
        await expectRefused(s, 'NOT_FOUND', ['input', 'partnerId'], { bookingId: s.booking.gid, startsAt: s.slots[0].startsAt, partnerId }, s.tokens.staff);
      }
      expect((await businessState(api.db, otherBusiness.id)).slots.every((slot) => slot.status === 'available')).toBe(true);
    });
  });

  describe('refusals leave the booking exactly as it was', () => {
    it('refuses a new range that overlaps another booking with SLOT_UNAVAILABLE', async () => {
      const s = await scene();
      const neighbour = await createBooking(api.db, { business: s.business, service: s.service, partner: s.partner, customer: await createCustomer(api.db, s.business), slots: s.partner.slots.slice(4, 6) });
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], { bookingId: s.booking.gid, startsAt: s.partner.slots[3].startsAt }, s.tokens.staff);
      expect(await bookedSlots(s)).toEqual([...held(s.slots, s.booking.id), ...held(s.partner.slots.slice(4, 6), neighbour.id)]);
    });

    it('refuses a new range with a blocked slot with SLOT_UNAVAILABLE', async () => {
      const s = await scene();
      await api.db.updateTable('partner_slots').set({ status: 'blocked' }).where('id', '=', s.partner.slots[1].id).execute();
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], { bookingId: s.booking.gid, startsAt: s.partner.slots[1].startsAt }, s.tokens.staff);
    });

    it('refuses a range that another partner has taken with SLOT_UNAVAILABLE', async () => {
      const s = await scene();
      const other = s.partners[1];
      await createBooking(api.db, { business: s.business, service: s.service, partner: other, customer: s.customer, slots: other.slots.slice(3, 5) });
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], { bookingId: s.booking.gid, startsAt: s.slots[0].startsAt, partnerId: other.gid }, s.tokens.staff);
    });

    it('refuses a start time between two slots with SLOT_UNAVAILABLE', async () => {
      const s = await scene();
      const quarterPast = new Date(Date.parse(s.partner.slots[4].startsAt) + 15 * 60_000).toISOString();
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], { bookingId: s.booking.gid, startsAt: quarterPast }, s.tokens.staff);
    });

    it('refuses a range that runs past the partner’s last slot with SLOT_UNAVAILABLE', async () => {
      const s = await scene();
      await expectRefused(s, 'SLOT_UNAVAILABLE', ['input', 'startsAt'], { bookingId: s.booking.gid, startsAt: s.partner.slots[7].startsAt }, s.tokens.staff);
    });

    it('refuses a start time in the past with IN_THE_PAST', async () => {
      const s = await scene();
      const past = await createSlots(api.db, s.business, s.partner, new Date(s.start.getTime() - 48 * HOUR), 2);
      await expectRefused(s, 'IN_THE_PAST', ['input', 'startsAt'], { bookingId: s.booking.gid, startsAt: past[0].startsAt }, s.tokens.staff);
    });

    for (const status of ['cancelled', 'completed', 'no_show'] as const) {
      it(`refuses to move a ${status} booking with INVALID_TRANSITION`, async () => {
        const s = await scene(status);
        await expectRefused(s, 'INVALID_TRANSITION', ['input', 'bookingId'], { bookingId: s.booking.gid, startsAt: s.partner.slots[5].startsAt }, s.tokens.staff);
      });
    }
  });

  describe('who may reschedule', () => {
    for (const role of ['customer', 'partner', 'staff', 'admin'] as const) {
      it(`lets ${role === 'customer' || role === 'partner' ? `the booking’s ${role}` : role} move it in time`, async () => {
        const s = await scene();
        const booking = moved(await reschedule({ bookingId: s.booking.gid, startsAt: s.partner.slots[5].startsAt }, s.tokens[role]));
        expect(booking.startsAt).toBe(s.partner.slots[5].startsAt);
        expect(await auditRows(api.db, s.booking.id)).toMatchObject([{ action: 'booking.rescheduled', actor: `${role}:${role}-1` }]);
      });
    }

    it('answers NOT_FOUND to another customer, another partner of the business and staff of another business', async () => {
      const s = await scene();
      const otherCustomer = await createCustomer(api.db, s.business);
      const otherBusiness = await createBusiness(api.db);
      const tokens = [
        await api.token({ sub: 'customer-2', role: 'customer', business_id: s.business.gid, customer_id: otherCustomer.gid }),
        await api.token({ sub: 'partner-2', role: 'partner', business_id: s.business.gid, partner_id: s.partners[1].gid }),
        (await tokensFor(api, { businessGid: otherBusiness.gid })).staff,
      ];
      for (const token of tokens) {
        await expectRefused(s, 'NOT_FOUND', ['input', 'bookingId'], { bookingId: s.booking.gid, startsAt: s.partner.slots[5].startsAt }, token);
      }
    });

    it('refuses an anonymous caller with UNAUTHENTICATED and changes nothing', async () => {
      const s = await scene();
      await expectTopLevelError(s, 'UNAUTHENTICATED', { bookingId: s.booking.gid, startsAt: s.partner.slots[5].startsAt }, undefined);
    });

    it('answers NOT_FOUND for an unknown or malformed booking ID', async () => {
      const s = await scene();
      for (const bookingId of [toGlobalId('Booking', '9000000000000000000'), 'garbage', s.partner.gid]) {
        await expectRefused(s, 'NOT_FOUND', ['input', 'bookingId'], { bookingId, startsAt: s.partner.slots[5].startsAt }, s.tokens.admin);
      }
    });
  });
});
