import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation } from '../shared/mutation.js';
import { blockSlot, namedSlot, slotManagerOf, unblockSlot } from './slots.actions.js';
import { slotById } from './slots.loaders.js';

const who = { expected: 'an admin, staff or partner token to block or unblock a slot', scope: slotManagerOf };
const rememberSlot = (context: RequestContext) => rememberById((id) => slotById(context.loaders).load(id));
const slotPayload = (slot: unknown) => ({ slot });

export const slotMutations: Resolvers = {
  Mutation: {
    slotBlock: mutation({
      name: 'slotBlock',
      who,
      outside: async ({ input }) => namedSlot(input.slotId),
      inside: (trx, { scope, prepared }) => blockSlot(trx, scope, prepared),
      remember: rememberSlot,
      payload: slotPayload,
    }),
    slotUnblock: mutation({
      name: 'slotUnblock',
      who,
      outside: async ({ input }) => namedSlot(input.slotId),
      inside: (trx, { scope, prepared }) => unblockSlot(trx, scope, prepared),
      remember: rememberSlot,
      payload: slotPayload,
    }),
  },
};
