import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { forbidden, unauthenticated } from '../shared/errors.js';
import { toPayload } from '../shared/payload.js';
import { blockSlot, slotManagerOf, unblockSlot, type SlotManager } from './slots.actions.js';

/** The caller as a slot manager; a caller who may manage no slot at all is refused at the top level. */
function slotManager(viewer: Viewer): SlotManager {
  const manager = slotManagerOf(viewer);
  if (manager) return manager;
  if (viewer.role === 'ANONYMOUS') throw unauthenticated();
  throw forbidden(`Expected an admin, staff or partner token to block or unblock a slot, got a ${viewer.role.toLowerCase()} token.`);
}

export const slotMutations: Resolvers = {
  Mutation: {
    slotBlock: async (_, { input }, context) =>
      toPayload(context, 'slot', await blockSlot(context.app.db, context.app.changes, slotManager(context.viewer), input.slotId)),
    slotUnblock: async (_, { input }, context) =>
      toPayload(context, 'slot', await unblockSlot(context.app.db, context.app.changes, slotManager(context.viewer), input.slotId)),
  },
};
