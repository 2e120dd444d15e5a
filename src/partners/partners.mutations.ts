import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import { mutation } from '../shared/mutation.js';
import { partnerIdOf, partnerManagerOf, setPartnerActive } from './partners.actions.js';
import { partnerById } from './partners.loaders.js';

export const partnerMutations: Resolvers = {
  Mutation: {
    partnerSetActive: mutation({
      name: 'partnerSetActive',
      who: { expected: 'an admin or staff token to activate or deactivate a partner', scope: partnerManagerOf },
      outside: async ({ input }) => partnerIdOf(input),
      inside: (trx, { scope, input, prepared: id }) => setPartnerActive(trx, scope, id, input),
      remember: (context) => rememberById((id) => partnerById(context.loaders).load(id)),
      payload: (partner) => ({ partner }),
    }),
  },
};
