import type { UserErrorCode } from '../__generated__/resolvers-types.js';
import { insertAuditLogs } from '../audit/audit.repository.js';
import { managementScopeOf, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/sql-helpers.js';
import { announce, type ChangeFeed } from '../shared/change-feed.js';
import { rawIdOf } from '../shared/global-id.js';
import { inTransaction } from '../shared/transaction.js';
import { abort, userError, type ActionResult } from '../shared/user-errors.js';
import type { SlotModel } from './slot.model.js';
import { findSlotInScope, updateSlotStatusIf, type SlotScope } from './slots.repository.js';

const SLOT_ID_FIELD = ['input', 'slotId'];

/** Who is changing slots: the actor for the audit trail, and the slots they may change. */
export type SlotManager = ManagementScope;

/** Admins manage every slot, staff their business's, a partner their own; other roles none (null). */
export function slotManagerOf(viewer: Viewer): SlotManager | null {
  return managementScopeOf(viewer, { partnersMay: true });
}

interface SlotMove {
  from: 'AVAILABLE' | 'BLOCKED';
  to: 'AVAILABLE' | 'BLOCKED';
  verb: string;
  auditAction: string;
  /** The code when the slot is in another state than `from`. */
  wrongStatus: UserErrorCode;
}

// Blocking a taken slot is the booking flow's SLOT_UNAVAILABLE; unblocking a slot that is not
// blocked is a change its state does not allow, so INVALID_TRANSITION.
const BLOCK: SlotMove = { from: 'AVAILABLE', to: 'BLOCKED', verb: 'block', auditAction: 'slot.blocked', wrongStatus: 'SLOT_UNAVAILABLE' };
const UNBLOCK: SlotMove = { from: 'BLOCKED', to: 'AVAILABLE', verb: 'unblock', auditAction: 'slot.unblocked', wrongStatus: 'INVALID_TRANSITION' };

export function blockSlot(db: Db, changes: ChangeFeed, manager: SlotManager, slotGid: string): Promise<ActionResult<SlotModel>> {
  return moveSlot(db, changes, manager, slotGid, BLOCK);
}

export function unblockSlot(db: Db, changes: ChangeFeed, manager: SlotManager, slotGid: string): Promise<ActionResult<SlotModel>> {
  return moveSlot(db, changes, manager, slotGid, UNBLOCK);
}

// Another tenant's slot must read exactly like a missing one, so both get this same answer.
function notFoundMessage(slotGid: string): string {
  return `Expected the ID of a slot you may manage, got "${slotGid}".`;
}

async function moveSlot(db: Db, changes: ChangeFeed, manager: SlotManager, slotGid: string, move: SlotMove): Promise<ActionResult<SlotModel>> {
  const id = rawIdOf(slotGid, 'Slot');
  if (!id) return userError('NOT_FOUND', notFoundMessage(slotGid), SLOT_ID_FIELD);

  const result = await inTransaction(db, async (trx) => {
    const slot = await updateSlotStatusIf(trx, id, manager, move.from, move.to);
    if (!slot) {
      // The conditional update decided; this read only explains why it matched nothing.
      const current = await findSlotInScope(trx, id, manager);
      if (!current) abort('NOT_FOUND', notFoundMessage(slotGid), SLOT_ID_FIELD);
      const status = current.status.toLowerCase();
      const expected = move.from.toLowerCase();
      abort(
        move.wrongStatus,
        current.status === move.from
          ? // Another request moved it away and back between the two statements.
            `The slot changed while it was being ${move.verb}ed; expected ${expected}, try again.`
          : `The slot is ${status}, expected ${expected} to ${move.verb} it.`,
        SLOT_ID_FIELD,
      );
    }
    await insertAuditLogs(trx, [
      {
        businessId: slot.businessId,
        entity: 'slot',
        entityId: slot.id,
        action: move.auditAction,
        actor: manager.actor,
        changes: { before: { status: move.from }, after: { status: move.to } },
      },
    ]);
    return slot;
  });
  await announce(changes, result, (slot) => ({
    action: move.auditAction,
    businessId: slot.businessId,
    partnerIds: [slot.partnerId],
    ranges: [{ startsAt: slot.startsAt, endsAt: slot.endsAt }],
  }));
  return result;
}
