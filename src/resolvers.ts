import type { Resolvers } from './__generated__/resolvers-types.js';
import { teamMutations } from './accounts/team.mutations.js';
import { customerEraseMutations } from './customers/customer-erase.mutations.js';
import { viewerResolvers } from './viewer/viewer.resolvers.js';
import { availabilityResolvers } from './availability/availability.resolvers.js';
import { bookingMutations } from './bookings/bookings.mutations.js';
import { bookingResolvers } from './bookings/bookings.resolvers.js';
import { businessMutations } from './businesses/businesses.mutations.js';
import { businessResolvers } from './businesses/businesses.resolvers.js';
import { bookingEventResolvers } from './events/booking-events.resolvers.js';
import { customerMutations } from './customers/customers.mutations.js';
import { customerResolvers } from './customers/customers.resolvers.js';
import { slotHoldMutations } from './holds/slot-holds.mutations.js';
import { slotHoldResolvers } from './holds/slot-holds.resolvers.js';
import { localizationResolvers } from './localization/localization.resolvers.js';
import { translationMutations } from './localization/translations.mutations.js';
import { messageMutations } from './messages/messages.mutations.js';
import { messageResolvers } from './messages/messages.resolvers.js';
import { guestBookingMutations } from './bookings/guest-bookings.mutations.js';
import { nodeResolvers } from './node/node.resolvers.js';
import { partnerMutations } from './partners/partners.mutations.js';
import { partnerResolvers } from './partners/partners.resolvers.js';
import { paymentMutations } from './payments/payments.mutations.js';
import { paymentResolvers } from './payments/payments.resolvers.js';
import { auditLogResolvers } from './audit/audit-log.resolvers.js';
import { reviewMutations } from './reviews/reviews.mutations.js';
import { reviewResolvers } from './reviews/reviews.resolvers.js';
import { payoutMutations } from './payouts/payouts.mutations.js';
import { payoutResolvers } from './payouts/payouts.resolvers.js';
import { scheduleMutations } from './schedules/schedules.mutations.js';
import { scheduleResolvers } from './schedules/schedules.resolvers.js';
import { serviceMutations } from './services/services.mutations.js';
import { serviceResolvers } from './services/services.resolvers.js';
import { slotMutations } from './slots/slots.mutations.js';
import { slotResolvers } from './slots/slots.resolvers.js';
import { statsResolvers } from './stats/stats.resolvers.js';
import { webhookMutations } from './webhooks/webhooks.mutations.js';
import { webhookResolvers } from './webhooks/webhooks.resolvers.js';

/** Every domain's resolvers; server/schema.ts merges them and refuses a field defined twice. */
export const resolverMaps: Resolvers[] = [
  nodeResolvers,
  viewerResolvers,
  businessResolvers,
  statsResolvers,
  serviceResolvers,
  partnerResolvers,
  customerResolvers,
  slotResolvers,
  bookingResolvers,
  bookingMutations,
  paymentResolvers,
  paymentMutations,
  slotMutations,
  availabilityResolvers,
  partnerMutations,
  scheduleResolvers,
  scheduleMutations,
  slotHoldResolvers,
  slotHoldMutations,
  bookingEventResolvers,
  webhookResolvers,
  webhookMutations,
  localizationResolvers,
  translationMutations,
  teamMutations,
  customerEraseMutations,
  businessMutations,
  serviceMutations,
  customerMutations,
  reviewResolvers,
  reviewMutations,
  auditLogResolvers,
  payoutResolvers,
  payoutMutations,
  messageResolvers,
  messageMutations,
  guestBookingMutations,
];
