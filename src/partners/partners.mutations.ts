import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessIdOf, staffOfInput } from '../businesses/business-input.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, signedIn } from '../shared/mutation.js';
import { rawIdsOf } from '../shared/input-checks.js';
import type { PartnerModel } from './partner.model.js';
import { archivePartnerById, createPartner, partnerIdOf, partnerManagerOf, setPartnerActive, setPartnerServices, updatePartner } from './partners.actions.js';
import { partnerById } from './partners.loaders.js';

const rememberPartner = (context: RequestContext) => rememberById((id) => partnerById(context.loaders).load(id));
const partnerPayload = (partner: PartnerModel | null) => ({ partner });

export const partnerMutations: Resolvers = {
  Mutation: {
    partnerSetActive: mutation({
      name: 'partnerSetActive',
      who: { expected: 'an admin or staff token to activate or deactivate a partner', scope: partnerManagerOf },
      outside: async ({ input }) => partnerIdOf(input),
      inside: (trx, { scope, input, prepared: id }) => setPartnerActive(trx, scope, id, input),
      remember: rememberPartner,
      payload: partnerPayload,
    }),
    partnerCreate: mutation({
      name: 'partnerCreate',
      who: { expected: 'a staff token of the business (or an admin) to add a partner', scope: staffOfInput },
      outside: async ({ input }) => ({ businessId: businessIdOf(input), serviceIds: input.serviceIds == null ? null : rawIdsOf(input.serviceIds, 'Service', ['input', 'serviceIds']) }),
      inside: (trx, { input, prepared }) => createPartner(trx, prepared.businessId, input, prepared.serviceIds),
      remember: rememberPartner,
      payload: partnerPayload,
    }),
    partnerUpdate: mutation({
      name: 'partnerUpdate',
      who: { expected: 'a signed-in staff member of the business (or an admin) to change a partner', scope: signedIn },
      outside: async ({ input }) => partnerIdOf(input),
      inside: (trx, { viewer, input, prepared: id }) => updatePartner(trx, viewer, id, input),
      remember: rememberPartner,
      payload: partnerPayload,
    }),
    partnerArchive: mutation({
      name: 'partnerArchive',
      who: { expected: 'a signed-in staff member of the business (or an admin) to archive a partner', scope: signedIn },
      outside: async ({ input }) => partnerIdOf(input),
      inside: (trx, { viewer, input, prepared: id }) => archivePartnerById(trx, viewer, id, input),
      remember: rememberPartner,
      payload: partnerPayload,
    }),
    partnerServicesSet: mutation({
      name: 'partnerServicesSet',
      who: { expected: 'a signed-in staff member of the business (or an admin) to set what a partner performs', scope: signedIn },
      outside: async ({ input }) => ({ id: partnerIdOf(input), serviceIds: rawIdsOf(input.serviceIds, 'Service', ['input', 'serviceIds']) }),
      inside: (trx, { viewer, input, prepared }) => setPartnerServices(trx, viewer, prepared.id, input, prepared.serviceIds),
      remember: rememberPartner,
      payload: partnerPayload,
    }),
  },
};
