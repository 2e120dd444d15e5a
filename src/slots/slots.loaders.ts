import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { SlotModel } from './slot.model.js';
import { findSlotsByBookingIds, findSlotsByIds, findSlotsByPartnerIds, type SlotRangeArgs } from './slots.repository.js';

export function slotById(loaders: LoaderRegistry) {
  return loaders.get<string, SlotModel | null>('SlotById', async (ids) => inKeyOrder(ids, await findSlotsByIds(loaders.db, ids)));
}

export function slotsByBookingId(loaders: LoaderRegistry) {
  return loaders.get<string, SlotModel[]>('SlotsByBookingId', async (bookingIds) => {
    const groups = await findSlotsByBookingIds(loaders.db, bookingIds);
    return bookingIds.map((id) => groups.get(id) ?? []);
  });
}

export function slotsByPartnerId(loaders: LoaderRegistry, args: SlotRangeArgs) {
  return loaders.get<string, SlotModel[]>(`SlotsByPartnerId:${argsKey(args)}`, async (partnerIds) => {
    const groups = await findSlotsByPartnerIds(loaders.db, partnerIds, args);
    return partnerIds.map((id) => groups.get(id) ?? []);
  });
}
