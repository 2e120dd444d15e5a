import type { SlotHoldInput } from '../__generated__/resolvers-types.js';
import { insertAuditLogs } from '../audit/audit.repository.js';
import { requireSignedIn } from '../auth/access.js';
import { actorOf } from '../auth/viewer.js';
import { claimSlots, type ActionContext } from '../bookings/bookings.actions.js';
import { markSlotsHeld } from '../slots/slot-claims.repository.js';
import { announce } from '../shared/change-feed.js';
import { forbidden } from '../shared/errors.js';
import { inTransaction } from '../shared/transaction.js';
import type { ActionResult } from '../shared/user-errors.js';
import type { SlotHoldModel } from './slot-hold.model.js';
import { insertSlotHold } from './slot-holds.repository.js';

export interface HoldContext extends ActionContext {
  /** How long a hold lasts (HOLD_MINUTES). */
  holdMinutes: number;
}

/**
 * Reserves free slots for a customer for a few minutes. The slots are planned and locked exactly as
 * a booking's would be (FOR UPDATE SKIP LOCKED, all of them or none), so of two clients holding the
 * same time the first to lock wins and the other gets SLOT_UNAVAILABLE; once committed, the slots
 * are not free (SLOT_IS_FREE) until the hold lapses or its booking takes them.
 */
export async function holdSlots(ctx: HoldContext, input: SlotHoldInput): Promise<ActionResult<SlotHoldModel>> {
  requireSignedIn(ctx.viewer);
  if (ctx.viewer.role === 'PARTNER') throw forbidden('Partners cannot hold slots; staff or the customer can.');
  const result = await inTransaction(ctx.db, async (trx) => {
    const claim = await claimSlots(trx, ctx.viewer, input);
    const slotIds = claim.slots.map((s) => s.id);
    const hold = await insertSlotHold(trx, {
      businessId: claim.customer.businessId,
      customerId: claim.customer.id,
      partnerId: claim.partnerId,
      serviceId: claim.service.id,
      startsAt: claim.startsAt,
      endsAt: claim.endsAt,
      minutes: ctx.holdMinutes,
    });
    await markSlotsHeld(trx, slotIds, hold.id, hold.expiresAt);
    const { id: _id, businessId: _businessId, ...after } = hold;
    await insertAuditLogs(trx, [
      { businessId: hold.businessId, entity: 'hold', entityId: hold.id, action: 'hold.created', actor: actorOf(ctx.viewer), changes: { after: { ...after, slotIds } } },
    ]);
    return hold;
  });
  await announce(ctx.changes, result, (hold) => ({
    action: 'slot.held',
    businessId: hold.businessId,
    partnerIds: [hold.partnerId],
    ranges: [{ startsAt: hold.startsAt, endsAt: hold.endsAt }],
  }));
  return result;
}
