import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import { mutation } from '../shared/mutation.js';
import { blockSlot, namedSlot, slotManagerOf, unblockSlot } from './slots.actions.js';
import { slotById } from './slots.loaders.js';

/** `slotBlock` and `slotUnblock` differ only in the move their step makes. */
function slotMove(name: string, move: typeof blockSlot) {
  return mutation({
    name,
    who: { expected: 'an admin, staff or partner token to block or unblock a slot', scope: slotManagerOf },
    outside: async ({ input }: { input: { slotId: string } }) => namedSlot(input.slotId),
    inside: (trx, { scope, prepared }) => move(trx, scope, prepared),
    remember: (context) => rememberById((id) => slotById(context.loaders).load(id)),
    payload: (slot) => ({ slot }),
  });
}

export const slotMutations: Resolvers = {
  Mutation: {
    slotBlock: slotMove('slotBlock', blockSlot),
    slotUnblock: slotMove('slotUnblock', unblockSlot),
  },
};
