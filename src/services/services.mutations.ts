import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessIdOf, staffOfInput } from '../businesses/business-input.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, signedIn } from '../shared/mutation.js';
import type { ServiceModel } from './service.model.js';
import { serviceById } from './services.loaders.js';
import { rawIdsOf } from '../shared/input-checks.js';
import { archiveServiceById, createService, serviceIdOf, updateServiceById } from './services.actions.js';

const rememberService = (context: RequestContext) => rememberById((id) => serviceById(context.loaders).load(id));
const servicePayload = (service: ServiceModel | null) => ({ service });

export const serviceMutations: Resolvers = {
  Mutation: {
    serviceCreate: mutation({
      name: 'serviceCreate',
      who: { expected: 'a staff token of the business (or an admin) to add a service', scope: staffOfInput },
      outside: async ({ input }) => ({ businessId: businessIdOf(input), partnerIds: input.partnerIds == null ? null : rawIdsOf(input.partnerIds, 'Partner', ['input', 'partnerIds']) }),
      inside: (trx, { input, prepared }) => createService(trx, prepared.businessId, input, prepared.partnerIds),
      remember: rememberService,
      payload: servicePayload,
    }),
    serviceUpdate: mutation({
      name: 'serviceUpdate',
      who: { expected: 'a signed-in staff member of the business (or an admin) to change a service', scope: signedIn },
      outside: async ({ input }) => serviceIdOf(input),
      inside: (trx, { viewer, input, prepared: id }) => updateServiceById(trx, viewer, id, input),
      remember: rememberService,
      payload: servicePayload,
    }),
    serviceArchive: mutation({
      name: 'serviceArchive',
      who: { expected: 'a signed-in staff member of the business (or an admin) to archive a service', scope: signedIn },
      outside: async ({ input }) => serviceIdOf(input),
      inside: (trx, { viewer, input, prepared: id }) => archiveServiceById(trx, viewer, id, input),
      remember: rememberService,
      payload: servicePayload,
    }),
  },
};
