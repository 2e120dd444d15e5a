import type { Resolvers } from '../__generated__/resolvers-types.js';
import { partnerById } from '../partners/partners.loaders.js';
import { toGlobalId } from '../shared/global-id.js';
import { referenced } from '../shared/referenced.js';

export const slotResolvers: Resolvers = {
  Slot: {
    id: (slot) => toGlobalId('Slot', slot.id),
    partner: (slot, _, { loaders }) => referenced(partnerById(loaders), slot.partnerId, 'Slot.partner', slot.id),
  },
};
