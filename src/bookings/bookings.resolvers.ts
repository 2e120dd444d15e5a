import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { customerById } from '../customers/customers.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { paymentsByBookingId } from '../payments/payments.loaders.js';
import { serviceById } from '../services/services.loaders.js';
import { slotsByBookingId } from '../slots/slots.loaders.js';
import { toGlobalId } from '../shared/global-id.js';

// A booking's references are non-null in the schema; a visible booking's business, partner,
// service and customer are always visible too (they share its tenant), so the loads never yield null.
export const bookingResolvers: Resolvers = {
  Booking: {
    id: (booking) => toGlobalId('Booking', booking.id),
    business: (booking, _, { loaders }) => businessById(loaders).load(booking.businessId) as never,
    customer: (booking, _, { loaders }) => customerById(loaders).load(booking.customerId) as never,
    partner: (booking, _, { loaders }) => partnerById(loaders).load(booking.partnerId) as never,
    service: (booking, _, { loaders }) => serviceById(loaders).load(booking.serviceId) as never,
    slots: (booking, _, { loaders }) => slotsByBookingId(loaders).load(booking.id),
    payments: (booking, _, { loaders }) => paymentsByBookingId(loaders).load(booking.id),
  },
};
