import { canSeeBooking } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { findSlotsByHoldIds } from '../slots/slots.repository.js';
import type { SlotModel } from '../slots/slot.model.js';
import { inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import type { SlotHoldModel } from './slot-hold.model.js';
import { findSlotHoldsByIds } from './slot-holds.repository.js';

/** A hold is seen by whoever would see a booking made from it: its customer, its partner, staff, admins. */
export function canSeeSlotHold(viewer: Viewer, hold: SlotHoldModel): boolean {
  // A guest's hold has no customer yet: only the business side sees it.
  return canSeeBooking(viewer, { ...hold, customerId: hold.customerId ?? '' });
}

export function slotHoldById(loaders: LoaderRegistry) {
  return loaders.get<string, SlotHoldModel | null>('SlotHoldById', async (ids) =>
    inKeyOrder(ids, await findSlotHoldsByIds(loaders.db, ids), (h) => canSeeSlotHold(loaders.viewer, h)),
  );
}

export function slotsBySlotHoldId(loaders: LoaderRegistry) {
  return loaders.get<string, SlotModel[]>('SlotsBySlotHoldId', async (holdIds) => {
    const groups = await findSlotsByHoldIds(loaders.db, holdIds);
    return holdIds.map((id) => groups.get(id) ?? []);
  });
}
