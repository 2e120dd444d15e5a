import type { Resolvers } from '../__generated__/resolvers-types.js';
import { partnerById } from '../partners/partners.loaders.js';
import { serviceById } from '../services/services.loaders.js';
import { toGlobalId } from '../shared/global-id.js';
import { slotsBySlotHoldId } from './slot-holds.loaders.js';

export const slotHoldResolvers: Resolvers = {
  SlotHold: {
    id: (hold) => toGlobalId('SlotHold', hold.id),
    partner: (hold, _, { loaders }) => partnerById(loaders).load(hold.partnerId) as never,
    service: (hold, _, { loaders }) => serviceById(loaders).load(hold.serviceId) as never,
    slots: (hold, _, { loaders }) => slotsBySlotHoldId(loaders).load(hold.id),
  },
};
