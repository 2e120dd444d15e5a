import type { UserErrorCode } from '../__generated__/resolvers-types.js';
import { managementScopeOf, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { rawIdOf } from '../shared/global-id.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import type { SlotModel } from './slot.model.js';
import { findSlotInScope, updateSlotStatusIf } from './slots.repository.js';

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

/** A slot named by a mutation: its global ID as given, and the raw id inside (see slotIdOf). */
export interface NamedSlot {
  gid: string;
  id: string;
}

export function blockSlot(trx: Trx, manager: SlotManager, slot: NamedSlot): Promise<Step<SlotModel>> {
  return moveSlot(trx, manager, slot, BLOCK);
}

export function unblockSlot(trx: Trx, manager: SlotManager, slot: NamedSlot): Promise<Step<SlotModel>> {
  return moveSlot(trx, manager, slot, UNBLOCK);
}

// Another tenant's slot must read exactly like a missing one, so both get this same answer.
function notFoundMessage(slotGid: string): string {
  return `Expected the ID of a slot you may manage, got "${slotGid}".`;
}

/** The slot an input names; a malformed ID reads NOT_FOUND, before any statement. */
export function namedSlot(slotGid: string): NamedSlot {
  const id = rawIdOf(slotGid, 'Slot');
  if (!id) abort('NOT_FOUND', notFoundMessage(slotGid), SLOT_ID_FIELD);
  return { gid: slotGid, id };
}

async function moveSlot(trx: Trx, manager: SlotManager, { gid: slotGid, id }: NamedSlot, move: SlotMove): Promise<Step<SlotModel>> {
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
  return {
    value: slot,
    changes: [{ action: move.auditAction, businessId: slot.businessId, partnerIds: [slot.partnerId], ranges: [{ startsAt: slot.startsAt, endsAt: slot.endsAt }] }],
    audit: [{ businessId: slot.businessId, entity: 'slot', entityId: slot.id, action: move.auditAction, changes: { before: { status: move.from }, after: { status: move.to } } }],
  };
}
