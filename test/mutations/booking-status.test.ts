import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BookingStatusColumn } from '../../src/db/tables.js';
import { toGlobalId } from '../../src/shared/global-id.js';
import { startTestApi, tokensFor, type GraphQLResponse, type TestApi } from '../support/api.js';
import { bookedScene } from '../support/scenes.js';
import { auditRows, bookingState, businessState, createBooking, createBusiness, createCustomer, createPartner } from '../support/builders.js';

const BOOKING_FIELDS = 'booking { id status cancelReason partner { id activeBookingCount } slots { id status } } userErrors { field message code }';

/** The status mutations, by their field name, each with its input type. */
const OPERATIONS = {
  bookingConfirm: 'BookingConfirmInput',
  bookingComplete: 'BookingCompleteInput',
  bookingMarkNoShow: 'BookingMarkNoShowInput',
  bookingCancel: 'BookingCancelInput',
} as const;
type Operation = keyof typeof OPERATIONS;

const document = (operation: Operation) => `mutation($input: ${OPERATIONS[operation]}!) { ${operation}(input: $input) { ${BOOKING_FIELDS} } }`;

/** The status each operation leads to, and the audit action it writes. */
const TARGET: Record<Operation, { status: BookingStatusColumn; action: string }> = {
  bookingConfirm: { status: 'confirmed', action: 'booking.confirmed' },
  bookingComplete: { status: 'completed', action: 'booking.completed' },
  bookingMarkNoShow: { status: 'no_show', action: 'booking.no_show' },
  bookingCancel: { status: 'cancelled', action: 'booking.cancelled' },
};

/** The moves the BookingStatus documentation allows; every other (status, operation) pair is refused. */
const ALLOWED: Record<BookingStatusColumn, Operation[]> = {
  pending: ['bookingConfirm', 'bookingCancel'],
  confirmed: ['bookingCancel', 'bookingComplete', 'bookingMarkNoShow'],
  cancelled: [],
  completed: [],
  no_show: [],
};
const STATUSES = Object.keys(ALLOWED) as BookingStatusColumn[];
const isLive = (status: BookingStatusColumn) => status === 'pending' || status === 'confirmed';

describe('Mutation: booking status changes (confirm, complete, mark no-show, cancel)', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const scene = (status: BookingStatusColumn = 'pending') => bookedScene(api, status);
  type Scene = Awaited<ReturnType<typeof scene>>;

  /** Tokens of callers who must not reach the scene's booking. */
  async function outsiders(s: Scene) {
    const otherCustomer = await createCustomer(api.db, s.business);
    const otherBusiness = await createBusiness(api.db);
    return {
      otherPartner: await api.token({ sub: 'partner-2', role: 'partner', business_id: s.business.gid, partner_id: s.partners[1].gid }),
      otherCustomer: await api.token({ sub: 'customer-2', role: 'customer', business_id: s.business.gid, customer_id: otherCustomer.gid }),
      otherStaff: (await tokensFor(api, { businessGid: otherBusiness.gid })).staff,
    };
  }

  function run(operation: Operation, input: Record<string, unknown>, token: string | undefined) {
    return api.gql(document(operation), { input }, { token });
  }

  /** Runs an operation that must be refused with the user error `code`, and proves that nothing in the business changed. */
  async function expectRefused(s: Scene, operation: Operation, code: string, field: string[], input: Record<string, unknown>, token: string | undefined) {
    const before = await businessState(api.db, s.business.id);
    const res = await run(operation, input, token);
    expect(res.errors).toBeUndefined();
    expect(res.data[operation]).toEqual({ booking: null, userErrors: [{ field, message: expect.any(String), code }] });
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  }

  /** Runs an operation that must be refused with a top-level error `code`, and proves that nothing in the business changed. */
  async function expectTopLevelError(s: Scene, operation: Operation, code: string, input: Record<string, unknown>, token: string | undefined) {
    const before = await businessState(api.db, s.business.id);
    const res = await run(operation, input, token);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual([code]);
    expect(res.data ?? null).toBeNull();
    expect(await businessState(api.db, s.business.id)).toEqual(before);
  }

  function succeeded(res: GraphQLResponse, operation: Operation) {
    expect(res.errors).toBeUndefined();
    expect(res.data[operation].userErrors).toEqual([]);
    return res.data[operation].booking;
  }

  describe('the allowed moves', () => {
    it('confirms a pending booking: the slots stay booked, the count stays, one audit row', async () => {
      const s = await scene('pending');
      const booking = succeeded(await run('bookingConfirm', { bookingId: s.booking.gid }, s.tokens.staff), 'bookingConfirm');
      expect(booking).toEqual({
        id: s.booking.gid,
        status: 'CONFIRMED',
        cancelReason: null,
        partner: { id: s.partner.gid, activeBookingCount: 1 },
        slots: s.slots.map((slot) => ({ id: slot.gid, status: 'BOOKED' })),
      });
      const state = await bookingState(api.db, s.booking.id);
      expect(state.booking?.status).toBe('confirmed');
      expect(state.slots.map((slot) => slot.id)).toEqual(s.slots.map((slot) => slot.id));
      expect(state.partnerActiveCount).toBe(1);
      expect(await auditRows(api.db, s.booking.id)).toEqual([
        { businessId: s.business.id, entity: 'booking', action: 'booking.confirmed', actor: 'staff:staff-1', changes: { before: { status: 'PENDING' }, after: { status: 'CONFIRMED' } } },
      ]);
    });

    it('completes a confirmed booking and takes it off the partner’s active count', async () => {
      const s = await scene('confirmed');
      const booking = succeeded(await run('bookingComplete', { bookingId: s.booking.gid }, s.tokens.staff), 'bookingComplete');
      expect(booking).toMatchObject({ status: 'COMPLETED', partner: { activeBookingCount: 0 } });
      const state = await bookingState(api.db, s.booking.id);
      expect(state.booking?.status).toBe('completed');
      expect(state.partnerActiveCount).toBe(0);
      expect(await auditRows(api.db, s.booking.id)).toMatchObject([{ action: 'booking.completed', changes: { before: { status: 'CONFIRMED' }, after: { status: 'COMPLETED' } } }]);
    });

    it('marks a confirmed booking as a no-show and takes it off the partner’s active count', async () => {
      const s = await scene('confirmed');
      const booking = succeeded(await run('bookingMarkNoShow', { bookingId: s.booking.gid }, s.tokens.staff), 'bookingMarkNoShow');
      expect(booking).toMatchObject({ status: 'NO_SHOW', partner: { activeBookingCount: 0 } });
      const state = await bookingState(api.db, s.booking.id);
      expect(state.booking?.status).toBe('no_show');
      expect(state.partnerActiveCount).toBe(0);
      expect(await auditRows(api.db, s.booking.id)).toMatchObject([{ action: 'booking.no_show', changes: { before: { status: 'CONFIRMED' }, after: { status: 'NO_SHOW' } } }]);
    });

    for (const from of ['pending', 'confirmed'] as const) {
      it(`cancels a ${from} booking: stores the reason, frees its slots and takes it off the partner’s active count`, async () => {
        const s = await scene(from);
        const res = await run('bookingCancel', { bookingId: s.booking.gid, reason: '  The customer is ill.  ' }, s.tokens.customer);
        expect(succeeded(res, 'bookingCancel')).toEqual({
          id: s.booking.gid,
          status: 'CANCELLED',
          cancelReason: 'The customer is ill.',
          partner: { id: s.partner.gid, activeBookingCount: 0 },
          slots: [],
        });
        const state = await bookingState(api.db, s.booking.id);
        expect(state.booking).toMatchObject({ status: 'cancelled', cancelReason: 'The customer is ill.' });
        expect(state.slots).toEqual([]);
        expect(state.partnerActiveCount).toBe(0);
        const slots = (await businessState(api.db, s.business.id)).slots;
        expect(slots.filter((slot) => s.slots.some((own) => own.id === slot.id))).toEqual(s.slots.map((slot) => ({ id: slot.id, status: 'available', booking_id: null })));
        expect(await auditRows(api.db, s.booking.id)).toEqual([
          {
            businessId: s.business.id,
            entity: 'booking',
            action: 'booking.cancelled',
            actor: 'customer:customer-1',
            changes: { before: { status: from.toUpperCase() }, after: { status: 'CANCELLED', cancelReason: 'The customer is ill.' } },
          },
        ]);
      });
    }

    it('cancels without a reason, storing none', async () => {
      const s = await scene();
      const booking = succeeded(await run('bookingCancel', { bookingId: s.booking.gid }, s.tokens.staff), 'bookingCancel');
      expect(booking).toMatchObject({ status: 'CANCELLED', cancelReason: null });
      expect((await bookingState(api.db, s.booking.id)).booking?.cancelReason).toBeNull();
    });

    it('accepts a reason of exactly 500 characters', async () => {
      const s = await scene();
      const reason = 'r'.repeat(500);
      const booking = succeeded(await run('bookingCancel', { bookingId: s.booking.gid, reason }, s.tokens.staff), 'bookingCancel');
      expect(booking.cancelReason).toBe(reason);
    });

    it('refuses a reason longer than 500 characters with INVALID_INPUT and changes nothing', async () => {
      const s = await scene();
      await expectRefused(s, 'bookingCancel', 'INVALID_INPUT', ['input', 'reason'], { bookingId: s.booking.gid, reason: 'r'.repeat(501) }, s.tokens.staff);
    });

    it('makes the slots of a cancelled booking bookable again', async () => {
      const s = await scene('confirmed');
      succeeded(await run('bookingCancel', { bookingId: s.booking.gid }, s.tokens.staff), 'bookingCancel');
      const res = await api.gql(
        `mutation($input: BookingCreateInput!) { bookingCreate(input: $input) { booking { slots { id } partner { activeBookingCount } } userErrors { code } } }`,
        { input: { serviceId: s.service.gid, startsAt: s.slots[0].startsAt, partnerId: s.partner.gid } },
        { token: s.tokens.customer },
      );
      expect(res.data.bookingCreate).toEqual({ booking: { slots: s.slots.map((slot) => ({ id: slot.gid })), partner: { activeBookingCount: 1 } }, userErrors: [] });
    });

    it('walks a booking from pending through confirmed to completed, with one audit row per step', async () => {
      const s = await scene();
      succeeded(await run('bookingConfirm', { bookingId: s.booking.gid }, s.tokens.partner), 'bookingConfirm');
      succeeded(await run('bookingComplete', { bookingId: s.booking.gid }, s.tokens.partner), 'bookingComplete');
      expect((await auditRows(api.db, s.booking.id)).map((row) => [row.action, row.actor])).toEqual([
        ['booking.confirmed', 'partner:partner-1'],
        ['booking.completed', 'partner:partner-1'],
      ]);
      expect((await bookingState(api.db, s.booking.id)).partnerActiveCount).toBe(0);
    });
  });

  describe('the life cycle, status by status and operation by operation', () => {
    for (const from of STATUSES) {
      for (const operation of Object.keys(OPERATIONS) as Operation[]) {
        const to = TARGET[operation].status;
        if (ALLOWED[from].includes(operation)) {
          it(`${operation} moves a ${from} booking to ${to}, keeping the active count in step`, async () => {
            const s = await scene(from);
            const booking = succeeded(await run(operation, { bookingId: s.booking.gid }, s.tokens.staff), operation);
            expect(booking.status).toBe(to.toUpperCase());
            const state = await bookingState(api.db, s.booking.id);
            expect(state.booking?.status).toBe(to);
            expect(state.partnerActiveCount).toBe(isLive(to) ? 1 : 0);
            expect(state.slots).toHaveLength(to === 'cancelled' ? 0 : 2);
            expect(await auditRows(api.db, s.booking.id)).toMatchObject([{ action: TARGET[operation].action }]);
          });
        } else {
          it(`${operation} refuses a ${from} booking with INVALID_TRANSITION and changes nothing`, async () => {
            const s = await scene(from);
            await expectRefused(s, operation, 'INVALID_TRANSITION', ['input', 'bookingId'], { bookingId: s.booking.gid }, s.tokens.staff);
          });
        }
      }
    }
  });

  describe('who may confirm, complete or mark a no-show', () => {
    const cases: Array<[Operation, BookingStatusColumn]> = [
      ['bookingConfirm', 'pending'],
      ['bookingComplete', 'confirmed'],
      ['bookingMarkNoShow', 'confirmed'],
    ];
    for (const [operation, from] of cases) {
      for (const role of ['staff', 'admin', 'partner'] as const) {
        it(`${operation}: lets ${role === 'partner' ? 'the booking’s own partner' : role} do it`, async () => {
          const s = await scene(from);
          const booking = succeeded(await run(operation, { bookingId: s.booking.gid }, s.tokens[role]), operation);
          expect(booking.status).toBe(TARGET[operation].status.toUpperCase());
          expect(await auditRows(api.db, s.booking.id)).toMatchObject([{ actor: `${role}:${role}-1` }]);
        });
      }

      it(`${operation}: refuses the booking’s customer with FORBIDDEN and changes nothing`, async () => {
        const s = await scene(from);
        await expectTopLevelError(s, operation, 'FORBIDDEN', { bookingId: s.booking.gid }, s.tokens.customer);
      });

      it(`${operation}: refuses an anonymous caller with UNAUTHENTICATED and changes nothing`, async () => {
        const s = await scene(from);
        await expectTopLevelError(s, operation, 'UNAUTHENTICATED', { bookingId: s.booking.gid }, undefined);
      });

      it(`${operation}: answers NOT_FOUND to another partner of the business and to staff of another business`, async () => {
        const s = await scene(from);
        const { otherPartner, otherStaff } = await outsiders(s);
        await expectRefused(s, operation, 'NOT_FOUND', ['input', 'bookingId'], { bookingId: s.booking.gid }, otherPartner);
        await expectRefused(s, operation, 'NOT_FOUND', ['input', 'bookingId'], { bookingId: s.booking.gid }, otherStaff);
      });
    }
  });

  describe('who may cancel', () => {
    for (const role of ['customer', 'partner', 'staff', 'admin'] as const) {
      it(`lets ${role === 'customer' || role === 'partner' ? `the booking’s ${role}` : role} cancel it`, async () => {
        const s = await scene('confirmed');
        const booking = succeeded(await run('bookingCancel', { bookingId: s.booking.gid, reason: `by ${role}` }, s.tokens[role]), 'bookingCancel');
        expect(booking).toMatchObject({ status: 'CANCELLED', cancelReason: `by ${role}`, slots: [] });
        expect(await auditRows(api.db, s.booking.id)).toMatchObject([{ action: 'booking.cancelled', actor: `${role}:${role}-1` }]);
      });
    }

    it('answers NOT_FOUND to another customer, another partner of the business and staff of another business', async () => {
      const s = await scene('confirmed');
      const { otherCustomer, otherPartner, otherStaff } = await outsiders(s);
      for (const token of [otherCustomer, otherPartner, otherStaff]) {
        await expectRefused(s, 'bookingCancel', 'NOT_FOUND', ['input', 'bookingId'], { bookingId: s.booking.gid }, token);
      }
    });

    it('refuses an anonymous caller with UNAUTHENTICATED and changes nothing', async () => {
      const s = await scene();
      await expectTopLevelError(s, 'bookingCancel', 'UNAUTHENTICATED', { bookingId: s.booking.gid }, undefined);
    });

    it('refuses an anonymous caller with UNAUTHENTICATED even when the reason is too long', async () => {
      const s = await scene();
      await expectTopLevelError(s, 'bookingCancel', 'UNAUTHENTICATED', { bookingId: s.booking.gid, reason: 'r'.repeat(501) }, undefined);
    });
  });

  it('answers NOT_FOUND for an unknown or malformed booking ID', async () => {
    const s = await scene();
    const unknown = toGlobalId('Booking', '9000000000000000000');
    for (const operation of Object.keys(OPERATIONS) as Operation[]) {
      for (const bookingId of [unknown, 'garbage', s.partner.gid]) {
        await expectRefused(s, operation, 'NOT_FOUND', ['input', 'bookingId'], { bookingId }, s.tokens.admin);
      }
    }
  });

  it('leaves the partner’s other bookings and slots alone when one booking is cancelled', async () => {
    const s = await scene('confirmed');
    const otherPartner = await createPartner(api.db, s.business);
    const other = await createBooking(api.db, { business: s.business, service: s.service, partner: s.partner, customer: s.customer, slots: s.partner.slots.slice(5, 7) });
    succeeded(await run('bookingCancel', { bookingId: s.booking.gid }, s.tokens.staff), 'bookingCancel');
    const state = await bookingState(api.db, other.id);
    expect(state.booking?.status).toBe('pending');
    expect(state.slots.map((slot) => slot.id)).toEqual(s.partner.slots.slice(5, 7).map((slot) => slot.id));
    expect(state.partnerActiveCount).toBe(1);
    expect((await businessState(api.db, s.business.id)).partners.find((p) => p.id === otherPartner.id)?.active_booking_count).toBe(0);
  });
});
