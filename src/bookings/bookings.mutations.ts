import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { RequestContext } from '../server/context.js';
import { rememberById, withIdempotency, type UnitOfWork } from '../idempotency/idempotent-mutation.js';
import { toPayload } from '../shared/payload.js';
import type { ActionResult } from '../shared/user-errors.js';
import type { BookingModel } from './booking.model.js';
import { bookingById } from './bookings.loaders.js';
import {
  cancelBooking,
  completeBooking,
  confirmBooking,
  createBooking,
  markBookingNoShow,
  rescheduleBooking,
  type ActionContext,
} from './bookings.actions.js';

const actionContext = (context: RequestContext, unit: UnitOfWork) => ({ db: unit.db, viewer: context.viewer, changes: unit.changes });

/** A booking mutation, run once per idempotency key; a retry gets the same booking back (as it is now). */
function idempotent<I extends object>(operation: string, action: (ctx: ActionContext, input: I) => Promise<ActionResult<BookingModel>>) {
  return async (_: unknown, { input }: { input: I }, context: RequestContext) =>
    toPayload(
      context,
      'booking',
      await withIdempotency(context, operation, input, (unit) => action(actionContext(context, unit), input), rememberById((id) => bookingById(context.loaders).load(id))),
    );
}

export const bookingMutations: Resolvers = {
  Mutation: {
    bookingCreate: idempotent('bookingCreate', createBooking),
    bookingConfirm: idempotent('bookingConfirm', confirmBooking),
    bookingCancel: idempotent('bookingCancel', cancelBooking),
    bookingReschedule: idempotent('bookingReschedule', rescheduleBooking),
    bookingComplete: idempotent('bookingComplete', completeBooking),
    bookingMarkNoShow: idempotent('bookingMarkNoShow', markBookingNoShow),
  },
};
