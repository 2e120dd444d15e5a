import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { checkPageSize, decodeCursor } from '../shared/connection.js';
import { connectionResolvers } from '../shared/connection-resolvers.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';
import { sideOf } from './messages.actions.js';
import { messageById, messagePagesByBookingId, unreadCountByBookingSide } from './messages.loaders.js';

const SIDE = { customer: 'CUSTOMER', business: 'BUSINESS' } as const;

export const messageResolvers: Resolvers = {
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
