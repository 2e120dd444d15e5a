import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { toGlobalId } from '../shared/global-id.js';

export const paymentResolvers: Resolvers = {
  Payment: {
    id: (payment) => toGlobalId('Payment', payment.id),
    booking: (payment, _, { loaders }) => bookingById(loaders).load(payment.bookingId) as never,
  },
};
