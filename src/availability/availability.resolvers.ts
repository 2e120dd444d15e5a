import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { partnerById } from '../partners/partners.loaders.js';
import { freeTextArgument, MAX_CITY_LENGTH } from '../shared/free-text.js';
import { idArgument } from '../shared/global-id.js';
import { findAvailablePartners, findAvailableStarts } from './availability.queries.js';

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
    availablePartners: (_, args, { loaders, app }) =>
      findAvailablePartners(
        { loaders, cache: app.cache },
        { city: freeTextArgument(args.city, 'city', MAX_CITY_LENGTH), date: args.date, businessId: args.businessId ? idArgument(args.businessId, 'Business', 'businessId') : null },
      ),
  },
  AvailableStart: {
    partners: async (start, _, { loaders }) => {
      const partners = await partnerById(loaders).loadMany(start.partnerIds);
      return partners.filter((p): p is PartnerModel => p !== null && !(p instanceof Error));
    },
  },
};
