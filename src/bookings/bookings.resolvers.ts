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
// service and customer are always visible too (they share its tenant), so the loads never yield null.
export const bookingResolvers: Resolvers = {
  Booking: {
    id: (booking) => toGlobalId('Booking', booking.id),
    business: (booking, _, { loaders }) => referenced(businessById(loaders), booking.businessId, `Booking ${booking.id} -> Business`),
    customer: (booking, _, { loaders }) => referenced(customerById(loaders), booking.customerId, `Booking ${booking.id} -> Customer`),
    partner: (booking, _, { loaders }) => referenced(partnerById(loaders), booking.partnerId, `Booking ${booking.id} -> Partner`),
    service: (booking, _, { loaders }) => referenced(serviceById(loaders), booking.serviceId, `Booking ${booking.id} -> Service`),
    slots: (booking, _, { loaders }) => slotsByBookingId(loaders).load(booking.id),
    payments: (booking, _, { loaders }) => paymentsByBookingId(loaders).load(booking.id),
  },
};
