import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';

export const serviceResolvers: Resolvers = {
  Service: {
    id: (service) => toGlobalId('Service', service.id),
    business: (service, _, { loaders }) => referenced(businessById(loaders), service.businessId, 'Service.business', service.id),
  },
};
