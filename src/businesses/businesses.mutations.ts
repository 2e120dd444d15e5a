import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, signedIn } from '../shared/mutation.js';
import type { BusinessModel } from './business.model.js';
import { businessById } from './businesses.loaders.js';
import { businessIdOf, ownerOfInput } from './business-input.js';
import { archiveBusinessById, checkBusinessCreate, createBusiness, updateBusinessProfile } from './businesses.actions.js';

const rememberBusiness = (context: RequestContext) => rememberById((id) => businessById(context.loaders).load(id));
const businessPayload = (business: BusinessModel | null) => ({ business });

export const businessMutations: Resolvers = {
  Mutation: {
    businessCreate: mutation({
      name: 'businessCreate',
      who: { expected: 'a signed-in account to create a business', scope: signedIn },
      outside: async ({ input }) => checkBusinessCreate(input),
      inside: (trx, { viewer, prepared }) => createBusiness(trx, viewer, prepared),
      remember: rememberBusiness,
      payload: businessPayload,
    }),
    businessUpdate: mutation({
      name: 'businessUpdate',
      who: { expected: 'an owner of the business (or an admin) to change it', scope: ownerOfInput },
      outside: async ({ input }) => businessIdOf(input),
      inside: (trx, { input, prepared: id }) => updateBusinessProfile(trx, id, input),
      remember: rememberBusiness,
      payload: businessPayload,
    }),
    businessArchive: mutation({
      name: 'businessArchive',
      who: { expected: 'an owner of the business (or an admin) to archive it', scope: ownerOfInput },
      outside: async ({ input }) => businessIdOf(input),
      inside: (trx, { input, prepared: id }) => archiveBusinessById(trx, id, input),
      remember: rememberBusiness,
      payload: businessPayload,
    }),
  },
};
