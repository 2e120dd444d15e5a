import type { SlotHoldInput } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { combine, type Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { markSlotsHeld } from '../slots/slot-claims.repository.js';
import { claimSlots } from '../slots/slot-claims.js';
import type { SlotHoldModel } from './slot-hold.model.js';
import { insertSlotHold } from './slot-holds.repository.js';

/**
 * Reserves free slots for a customer for `holdMinutes` (HOLD_MINUTES). The slots are planned and
 * locked exactly as a booking's would be (FOR UPDATE SKIP LOCKED, all of them or none), so of two
 * clients holding the same time the first to lock wins and the other gets SLOT_UNAVAILABLE; once
 * committed, the slots are not free (SLOT_IS_FREE) until the hold lapses or its booking takes them.
 */
export async function holdSlots(trx: Trx, viewer: Viewer, input: SlotHoldInput, holdMinutes: number): Promise<Step<SlotHoldModel>> {
  const claim = await claimSlots(trx, viewer, input);
  const slotIds = claim.slots.map((s) => s.id);
  const hold = await insertSlotHold(trx, {
    businessId: claim.customer.businessId,
    customerId: claim.customer.id,
    partnerId: claim.partnerId,
    serviceId: claim.service.id,
    startsAt: claim.startsAt,
    endsAt: claim.endsAt,
    minutes: holdMinutes,
  });
  await markSlotsHeld(trx, slotIds, hold.id, hold.expiresAt);
  const { id: _id, businessId: _businessId, ...after } = hold;
  const held = {
    changes: [{ action: 'slot.held', businessId: hold.businessId, partnerIds: [hold.partnerId], ranges: [{ startsAt: hold.startsAt, endsAt: hold.endsAt }] }],
    audit: [{ businessId: hold.businessId, entity: 'hold' as const, entityId: hold.id, action: 'hold.created', changes: { after: { ...after, slotIds } } }],
  };
  return { value: hold, ...combine(claim.registration, held) };
}
