import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { scopeOrRefuse } from '../auth/access.js';
import { rememberById, withIdempotency } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { toPayload } from '../shared/payload.js';
import { blockSlot, slotManagerOf, unblockSlot, type SlotManager } from './slots.actions.js';
import { slotById } from './slots.loaders.js';

/** The caller as a slot manager; a caller who may manage no slot at all is refused at the top level. */
function slotManager(viewer: Viewer): SlotManager {
  return scopeOrRefuse(slotManagerOf(viewer), viewer, 'an admin, staff or partner token to block or unblock a slot');
}

const rememberSlot = (context: RequestContext) => rememberById((id) => slotById(context.loaders).load(id));

export const slotMutations: Resolvers = {
  Mutation: {
    slotBlock: async (_, { input }, context) => {
      const manager = slotManager(context.viewer);
      return toPayload(context, 'slot', await withIdempotency(context, 'slotBlock', input, (unit) => blockSlot(unit.db, unit.changes, manager, input.slotId), rememberSlot(context)));
    },
    slotUnblock: async (_, { input }, context) => {
      const manager = slotManager(context.viewer);
      return toPayload(context, 'slot', await withIdempotency(context, 'slotUnblock', input, (unit) => unblockSlot(unit.db, unit.changes, manager, input.slotId), rememberSlot(context)));
    },
  },
};
