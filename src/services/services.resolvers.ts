import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { toGlobalId } from '../shared/global-id.js';

export const serviceResolvers: Resolvers = {
  Service: {
    id: (service) => toGlobalId('Service', service.id),
    business: (service, _, { loaders }) => businessById(loaders).load(service.businessId) as never,
  },
};
