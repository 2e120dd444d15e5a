import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { checkPageSize, decodeCursor } from '../shared/connection.js';
import { connectionResolvers } from '../shared/connection-resolvers.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';
import { accessKeyOf, requireSignedIn } from '../auth/access.js';
import type { DeliveredEvent } from '../events/event-hub.js';
import type { RequestContext } from '../server/context.js';
import { badUserInput } from '../shared/errors.js';
import { idArgument } from '../shared/global-id.js';
import { LoaderRegistry } from '../shared/loader-registry.js';
import { sideOf } from './messages.actions.js';
import { messageById, messagePagesByBookingId, unreadCountByBookingSide } from './messages.loaders.js';

const SIDE = { customer: 'CUSTOMER', business: 'BUSINESS' } as const;

/**
 * A thread's live messages, for whoever may read the booking now (checked once, as bookingEvents
 * checks its scope once); each message is read with fresh loaders when it is delivered, so a
 * caller who has lost the booking since gets `message: null`. A booking the caller may not see is
 * refused exactly like a missing one.
 */
async function followThread(ctx: RequestContext, bookingGid: string) {
  requireSignedIn(ctx.viewer);
  const id = idArgument(bookingGid, 'Booking', 'bookingId');
  const booking = await bookingById(ctx.loaders).load(id);
  if (!booking) throw badUserInput(`No booking with ID "${bookingGid}" that you may read.`, 'bookingId');
  const key = accessKeyOf(ctx.viewer);
  const freshLoaders = ({ shared }: DeliveredEvent) => {
    let loaders = shared.get(key) as LoaderRegistry | undefined;
    if (!loaders) shared.set(key, (loaders = new LoaderRegistry(ctx.app.db, ctx.viewer)));
    ctx.loaders = loaders;
  };
  return ctx.app.events.stream({ businessId: booking.businessId, partnerId: null, bookingId: booking.id, types: ['MESSAGE_POSTED'] }, freshLoaders);
}

export const messageResolvers: Resolvers = {
  Subscription: {
    bookingMessages: {
      subscribe: (_, args, ctx) => followThread(ctx, args.bookingId),
      resolve: (delivered: DeliveredEvent) => delivered.event,
    },
  },
  BookingMessage: {
    cursor: (e) => e.position,
    message: (e, _, { loaders }) => messageById(loaders).load(e.data.message!.id),
  },
  Booking: {
    // The booking is visible (its resolver's parent was loaded through the viewer's access), so its thread is.
    messages: (booking, args, { loaders }) => {
      const size = checkPageSize(args.first, 20);
      const after = decodeCursor(args.after, ['time', 'id']) as [string, string] | null;
      return messagePagesByBookingId(loaders, after, size).load(booking.id);
    },
    unreadCount: (booking, _, { loaders }) => unreadCountByBookingSide(loaders).load(`${sideOf(loaders.viewer, booking)}:${booking.id}`),
  },
  Message: {
    id: (message) => toGlobalId('Message', message.id),
    booking: (message, _, { loaders }) => referenced(bookingById(loaders), message.bookingId, 'Message.booking', message.id),
    senderSide: (message) => SIDE[message.senderSide],
  },
  MessageConnection: connectionResolvers,
  BookingEvent: {
    message: (e, _, { loaders }) => (e.data.message ? messageById(loaders).load(e.data.message.id) : null),
  },
};
