import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { customerById } from '../customers/customers.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';

export const viewerResolvers: Resolvers = {
  Query: {
    viewer: (_, __, { viewer }) => viewer,
  },
  Viewer: {
    business: (viewer, _, { loaders }) => (viewer.businessId ? businessById(loaders).load(viewer.businessId) : null),
    partner: (viewer, _, { loaders }) => (viewer.partnerId ? partnerById(loaders).load(viewer.partnerId) : null),
    customer: (viewer, _, { loaders }) => (viewer.customerId ? customerById(loaders).load(viewer.customerId) : null),
  },
};
