import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { RequestContext } from '../server/context.js';
import { toPayload } from '../shared/payload.js';
import {
  cancelBooking,
  completeBooking,
  confirmBooking,
  createBooking,
  markBookingNoShow,
  rescheduleBooking,
} from './bookings.actions.js';

const actionContext = (context: RequestContext) => ({ db: context.app.db, viewer: context.viewer, changes: context.app.changes });

export const bookingMutations: Resolvers = {
  Mutation: {
    bookingCreate: async (_, { input }, context) => toPayload(context, 'booking', await createBooking(actionContext(context), input)),
    bookingConfirm: async (_, { input }, context) => toPayload(context, 'booking', await confirmBooking(actionContext(context), input)),
    bookingCancel: async (_, { input }, context) => toPayload(context, 'booking', await cancelBooking(actionContext(context), input)),
    bookingReschedule: async (_, { input }, context) => toPayload(context, 'booking', await rescheduleBooking(actionContext(context), input)),
    bookingComplete: async (_, { input }, context) => toPayload(context, 'booking', await completeBooking(actionContext(context), input)),
    bookingMarkNoShow: async (_, { input }, context) => toPayload(context, 'booking', await markBookingNoShow(actionContext(context), input)),
  },
};
