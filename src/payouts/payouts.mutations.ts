import type { Resolvers } from '../__generated__/resolvers-types.js';
import { businessIdOf, ownerOfInput } from '../businesses/business-input.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { rememberById, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, roles } from '../shared/mutation.js';
import { checkPayoutRequest, createPayout, setShare, shareRequestOf, type ShareChanged } from './payouts.actions.js';
import { payoutById } from './payouts.loaders.js';

/** A retried `partnerShareSet` shows the business and partner as they are now. */
function rememberShare(context: RequestContext): ResultMemory<ShareChanged> {
  return {
    save: (value) => ({ businessId: value.business.id, partnerId: value.partner?.id ?? null }),
    restore: async (saved) => {
      const { businessId, partnerId } = saved as { businessId: string; partnerId: string | null };
      const business = await businessById(context.loaders).load(businessId);
      return business && { business, partner: partnerId ? await partnerById(context.loaders).load(partnerId) : null };
    },
  };
}

export const payoutMutations: Resolvers = {
  Mutation: {
    partnerShareSet: mutation({
      name: 'partnerShareSet',
      who: { expected: 'an owner of the business (or an admin) to set its partner share', scope: ownerOfInput },
      outside: async ({ input }) => shareRequestOf(businessIdOf(input), input),
      inside: (trx, { input, prepared }) => setShare(trx, prepared, input),
      remember: rememberShare,
      payload: (value) => ({ business: value?.business ?? null, partner: value?.partner ?? null }),
    }),
    payoutCreate: mutation({
      name: 'payoutCreate',
      who: { expected: 'a staff or admin token to pay a partner', scope: roles('ADMIN', 'STAFF') },
      outside: ({ viewer, input, app }, db) => checkPayoutRequest(db, app.payoutProviders, viewer, input),
      inside: (trx, { prepared }) => createPayout(trx, prepared),
      remember: (context: RequestContext) => rememberById((id) => payoutById(context.loaders).load(id)),
      payload: (payout) => ({ payout }),
    }),
  },
};
