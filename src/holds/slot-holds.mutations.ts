import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import { mutation, orAnyAccount, roles } from '../shared/mutation.js';
import { holdSlots } from './slot-holds.actions.js';
import { slotHoldById } from './slot-holds.loaders.js';

export const slotHoldMutations: Resolvers = {
  Mutation: {
    slotHold: mutation({
      name: 'slotHold',
      who: { expected: 'an account, customer, staff or admin token to hold slots', scope: orAnyAccount(roles('ADMIN', 'STAFF', 'CUSTOMER')) },
      inside: (trx, { viewer, input, app }) => holdSlots(trx, viewer, input, app.holdMinutes),
      remember: (context) => rememberById((id) => slotHoldById(context.loaders).load(id)),
      payload: (hold) => ({ hold }),
    }),
  },
};
