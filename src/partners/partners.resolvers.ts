import type { Resolvers } from '../__generated__/resolvers-types.js';
import { bookingScopeOf } from '../auth/access.js';
import { bookingListArgs } from '../bookings/booking-list-args.js';
import { bookingPagesByPartnerId } from '../bookings/bookings.loaders.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { activeBookingCountByPartnerId } from './partners.loaders.js';
import { servicesByPartnerId } from '../services/services.loaders.js';
import { slotsByPartnerId } from '../slots/slots.loaders.js';
import { checkPageSize } from '../shared/connection.js';
import { badUserInput, unauthenticated } from '../shared/errors.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';

const MAX_SLOT_RANGE_MS = 31 * 24 * 3600 * 1000;

export const partnerResolvers: Resolvers = {
  Partner: {
    id: (partner) => toGlobalId('Partner', partner.id),
    activeBookingCount: (partner, _, { loaders }) => partner.activeBookingCount ?? activeBookingCountByPartnerId(loaders).load(partner.id),
    business: (partner, _, { loaders }) => referenced(businessById(loaders), partner.businessId, 'Partner.business', partner.id),
    slots: (partner, { from, to, status }, { loaders }) => {
      const span = Date.parse(to) - Date.parse(from);
      if (span <= 0 || span > MAX_SLOT_RANGE_MS) {
        throw badUserInput(`Expected \`from\` before \`to\` and at most 31 days apart, got ${from} to ${to}.`, 'to');
      }
      return slotsByPartnerId(loaders, { from, to, status: status ?? null }).load(partner.id);
    },
    services: (partner, _, { loaders }) => servicesByPartnerId(loaders).load(partner.id),
    bookings: (partner, { filter, first, after }, { loaders, viewer }) => {
      const size = checkPageSize(first, 20);
      const args = bookingListArgs(filter, after);
      if (!bookingScopeOf(viewer)) throw unauthenticated();
      return bookingPagesByPartnerId(loaders, args, size).load(partner.id);
    },
  },
};
