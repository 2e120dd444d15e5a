import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById, withIdempotency } from '../idempotency/idempotent-mutation.js';
import { toPayload } from '../shared/payload.js';
import { holdSlots } from './slot-holds.actions.js';
import { slotHoldById } from './slot-holds.loaders.js';

export const slotHoldMutations: Resolvers = {
  Mutation: {
    slotHold: async (_, { input }, context) =>
      toPayload(
        context,
        'hold',
        await withIdempotency(
          context,
          'slotHold',
          input,
          (unit) => holdSlots({ db: unit.db, changes: unit.changes, viewer: context.viewer, holdMinutes: context.app.holdMinutes }, input),
          rememberById((id) => slotHoldById(context.loaders).load(id)),
        ),
      ),
  },
};
