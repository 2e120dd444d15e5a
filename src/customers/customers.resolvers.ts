import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingPagesByCustomerId } from '../bookings/bookings.loaders.js';
import { bookingListArgs } from '../bookings/booking-list-args.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { checkPageSize } from '../shared/connection.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';

export const customerResolvers: Resolvers = {
  Customer: {
    id: (customer) => toGlobalId('Customer', customer.id),
    business: (customer, _, { loaders }) => referenced(businessById(loaders), customer.businessId, 'Customer.business', customer.id),
    notificationPreferences: (customer) => ({ reminders: customer.remindersOptedOutAt === null, phone: customer.phone, locale: customer.locale }),
    // A visible customer implies a viewer with a booking scope (see canSeeCustomer).
    bookings: (customer, { status, first, after }, { loaders }) => {
      const size = checkPageSize(first, 20);
      const args = bookingListArgs(status ? { status: [status] } : null, after);
      return bookingPagesByCustomerId(loaders, args, size).load(customer.id);
    },
  },
};
