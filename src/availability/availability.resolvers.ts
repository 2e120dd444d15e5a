import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { partnerById } from '../partners/partners.loaders.js';
import { checkPageSize } from '../shared/connection.js';
import { freeTextArgument, MAX_CITY_LENGTH } from '../shared/free-text.js';
import { idArgument } from '../shared/global-id.js';
import { findAvailablePartners, findAvailableStarts } from './availability.queries.js';

/**
 * A marketplace's start can have hundreds of free partners, and a city thousands: the answers are
 * bounded (the cached value keeps every id; only what is returned is cut), least busy first.
 */
const DEFAULT_START_PARTNERS = 20;
const MAX_START_PARTNERS = 100;
const DEFAULT_AVAILABLE_PARTNERS = 50;
const MAX_AVAILABLE_PARTNERS = 200;

export const availabilityResolvers: Resolvers = {
  Query: {
    availableSlots: (_, args, { loaders, app }) =>
      findAvailableStarts(
        { loaders, cache: app.cache },
        {
          businessId: idArgument(args.businessId, 'Business', 'businessId'),
          serviceId: idArgument(args.serviceId, 'Service', 'serviceId'),
          date: args.date,
          partnerId: args.partnerId ? idArgument(args.partnerId, 'Partner', 'partnerId') : null,
        },
      ),
    availablePartners: async (_, args, { loaders, app }) => {
      const first = checkPageSize(args.first, DEFAULT_AVAILABLE_PARTNERS, MAX_AVAILABLE_PARTNERS);
      const partners = await findAvailablePartners(
        { loaders, cache: app.cache },
        { city: freeTextArgument(args.city, 'city', MAX_CITY_LENGTH), date: args.date, businessId: args.businessId ? idArgument(args.businessId, 'Business', 'businessId') : null },
      );
      return partners.slice(0, first);
    },
  },
  AvailableStart: {
    partners: async (start, args, { loaders }) => {
      const first = checkPageSize(args.first, DEFAULT_START_PARTNERS, MAX_START_PARTNERS);
      const partners = await partnerById(loaders).loadMany(start.partnerIds.slice(0, first));
      return partners.filter((p): p is PartnerModel => p !== null && !(p instanceof Error));
    },
    partnerCount: (start) => start.partnerIds.length,
  },
};
