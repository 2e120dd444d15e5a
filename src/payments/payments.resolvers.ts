import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';

export const paymentResolvers: Resolvers = {
  Payment: {
    id: (payment) => toGlobalId('Payment', payment.id),
    booking: (payment, _, { loaders }) => referenced(bookingById(loaders), payment.bookingId, 'Payment.booking', payment.id),
  },
};
