import type { BookingStatus, Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { forbidden } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import { mutation, orAnyAccount, roles } from '../shared/mutation.js';
import type { BookingModel } from './booking.model.js';
import { bookingById } from './bookings.loaders.js';
import { changeBookingStatus, checkCancelReason, createBooking, rescheduleBooking } from './bookings.actions.js';

/** A retry gets the same booking back (as it is now). */
const rememberBooking = (context: RequestContext) => rememberById((id) => bookingById(context.loaders).load(id));
const bookingPayload = (booking: BookingModel | null) => ({ booking });

/** Staff, admins and the booking's own partner operate a booking (which one is theirs, the step's read decides). */
const operators = roles('ADMIN', 'STAFF', 'PARTNER');
const anyoneSignedIn = roles('ADMIN', 'STAFF', 'PARTNER', 'CUSTOMER');

function statusChange(name: string, to: BookingStatus, verb: string) {
  return mutation({
    name,
    who: { expected: `an admin, staff or partner token to ${verb} a booking`, scope: operators },
    inside: (trx, { viewer, input }: { viewer: Viewer; input: { bookingId: string } }) => changeBookingStatus(trx, viewer, input.bookingId, to),
    remember: rememberBooking,
    payload: bookingPayload,
  });
}

export const bookingMutations: Resolvers = {
  Mutation: {
    bookingCreate: mutation({
      name: 'bookingCreate',
      who: { expected: 'an account, customer, staff or admin token to create a booking', scope: orAnyAccount(roles('ADMIN', 'STAFF', 'CUSTOMER')) },
      inside: (trx, { viewer, input }) => createBooking(trx, viewer, input),
      remember: rememberBooking,
      payload: bookingPayload,
    }),
    bookingConfirm: statusChange('bookingConfirm', 'CONFIRMED', 'confirm'),
    bookingComplete: statusChange('bookingComplete', 'COMPLETED', 'complete'),
    bookingMarkNoShow: statusChange('bookingMarkNoShow', 'NO_SHOW', 'mark no-show'),
    bookingCancel: mutation({
      name: 'bookingCancel',
      who: { expected: 'a token to cancel a booking', scope: anyoneSignedIn },
      outside: async ({ input }) => checkCancelReason(input.reason),
      inside: (trx, { viewer, input, prepared: reason }) => changeBookingStatus(trx, viewer, input.bookingId, 'CANCELLED', reason),
      remember: rememberBooking,
      payload: bookingPayload,
    }),
    bookingReschedule: mutation({
      name: 'bookingReschedule',
      who: {
        expected: 'a token to reschedule a booking',
        scope: (viewer, input) => {
          // A partner sees only their own bookings, so any other partner named is a move away from them.
          const partnerOnly = !viewer.admin && viewer.customers.length === 0 && viewer.memberships.length > 0 && viewer.memberships.every((m) => m.role === 'PARTNER');
          const named = input.partnerId ? rawIdOf(input.partnerId, 'Partner') : null;
          if (partnerOnly && input.partnerId && !viewer.memberships.some((m) => m.partnerId === named)) {
            throw forbidden('Expected a partner to move their bookings in time only, got another partner\'s ID.');
          }
          return anyoneSignedIn(viewer);
        },
      },
      inside: (trx, { viewer, input }) => rescheduleBooking(trx, viewer, input),
      remember: rememberBooking,
      payload: bookingPayload,
    }),
  },
};
