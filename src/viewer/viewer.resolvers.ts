import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { MembershipModel } from '../accounts/membership.model.js';
import { businessById } from '../businesses/businesses.loaders.js';
import type { CustomerModel } from '../customers/customer.model.js';
import { customerById } from '../customers/customers.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';

export const viewerResolvers: Resolvers = {
  Query: {
    viewer: (_, __, { viewer }) => viewer,
  },
  Viewer: {
    // The grants came with the request (accounts/account-access.ts): listing them costs no statement.
    memberships: (viewer) =>
      viewer.accountId
        ? viewer.memberships.flatMap((m): MembershipModel[] => (m.id ? [{ id: m.id, accountId: viewer.accountId!, businessId: m.businessId, role: m.role, partnerId: m.partnerId }] : []))
        : [],
    customerRecords: async (viewer, _, { loaders }) => {
      const customers = await customerById(loaders).loadMany(viewer.customers.map((c) => c.customerId));
      return customers.filter((c): c is CustomerModel => c !== null && !(c instanceof Error));
    },
    business: (viewer, _, { loaders }) => (viewer.businessId ? businessById(loaders).load(viewer.businessId) : null),
    partner: (viewer, _, { loaders }) => (viewer.partnerId ? partnerById(loaders).load(viewer.partnerId) : null),
    customer: (viewer, _, { loaders }) => (viewer.customerId ? customerById(loaders).load(viewer.customerId) : null),
  },
  Membership: {
    id: (membership) => toGlobalId('Membership', membership.id),
    business: (membership, _, { loaders }) => referenced(businessById(loaders), membership.businessId, 'Membership.business', membership.id),
    partner: (membership, _, { loaders }) => (membership.partnerId ? partnerById(loaders).load(membership.partnerId) : null),
  },
};
