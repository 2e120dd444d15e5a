import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { customerById } from '../customers/customers.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { paymentsByBookingId } from '../payments/payments.loaders.js';
import { serviceById } from '../services/services.loaders.js';
import { slotsByBookingId } from '../slots/slots.loaders.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';

// A booking's references are non-null in the schema; a visible booking's business, partner,
// service and customer are always visible too (they share its tenant); `referenced` reports it if not.
export const bookingResolvers: Resolvers = {
  Booking: {
    id: (booking) => toGlobalId('Booking', booking.id),
    business: (booking, _, { loaders }) => referenced(businessById(loaders), booking.businessId, 'Booking.business', booking.id),
    customer: (booking, _, { loaders }) => referenced(customerById(loaders), booking.customerId, 'Booking.customer', booking.id),
    partner: (booking, _, { loaders }) => referenced(partnerById(loaders), booking.partnerId, 'Booking.partner', booking.id),
    service: (booking, _, { loaders }) => referenced(serviceById(loaders), booking.serviceId, 'Booking.service', booking.id),
    slots: (booking, _, { loaders }) => slotsByBookingId(loaders).load(booking.id),
    payments: (booking, _, { loaders }) => paymentsByBookingId(loaders).load(booking.id),
  },
};
