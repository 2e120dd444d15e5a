import type { Resolvers } from '../__generated__/resolvers-types.js';
import { partnerById } from '../partners/partners.loaders.js';
import { serviceById } from '../services/services.loaders.js';
import { toGlobalId } from '../shared/global-id.js';
import { slotsBySlotHoldId } from './slot-holds.loaders.js';
import { referenced } from '../shared/referenced.js';

export const slotHoldResolvers: Resolvers = {
  SlotHold: {
    id: (hold) => toGlobalId('SlotHold', hold.id),
    partner: (hold, _, { loaders }) => referenced(partnerById(loaders), hold.partnerId, 'SlotHold.partner', hold.id),
    service: (hold, _, { loaders }) => referenced(serviceById(loaders), hold.serviceId, 'SlotHold.service', hold.id),
    slots: (hold, _, { loaders }) => slotsBySlotHoldId(loaders).load(hold.id),
  },
};
