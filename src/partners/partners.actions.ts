import type { PartnerSetActiveInput } from '../__generated__/resolvers-types.js';
import { insertAuditLogs } from '../audit/audit.repository.js';
import { managementScopeOf, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/sql-helpers.js';
import { announce, type ChangeFeed } from '../shared/change-feed.js';
import { rawIdOf } from '../shared/global-id.js';
import { inTransaction } from '../shared/transaction.js';
import { abort, userError, type ActionResult } from '../shared/user-errors.js';
import type { PartnerModel } from './partner.model.js';
import { lockPartnerById, updatePartnerActive } from './partners.repository.js';

const PARTNER_ID_FIELD = ['input', 'partnerId'];

/** Who is changing partners: the actor for the audit trail, and the business (null: any) they manage. */
export type PartnerManager = ManagementScope;

/** Admins manage every partner, staff their business's; partners and customers none (null). */
export function partnerManagerOf(viewer: Viewer): PartnerManager | null {
  return managementScopeOf(viewer, { partnersMay: false });
}

// Another tenant's partner must read exactly like a missing one, so both get this same answer.
function notFoundMessage(partnerGid: string): string {
  return `Expected the ID of a partner you may manage, got "${partnerGid}".`;
}

export async function setPartnerActive(db: Db, changes: ChangeFeed, manager: PartnerManager, input: PartnerSetActiveInput): Promise<ActionResult<PartnerModel>> {
  const id = rawIdOf(input.partnerId, 'Partner');
  if (!id) return userError('NOT_FOUND', notFoundMessage(input.partnerId), PARTNER_ID_FIELD);

  let changed = false;
  const result = await inTransaction(db, async (trx) => {
    const partner = await lockPartnerById(trx, id, manager.businessId);
    if (!partner) abort('NOT_FOUND', notFoundMessage(input.partnerId), PARTNER_ID_FIELD);
    // Asking for the current value succeeds without a write or an audit row, so a retried request
    // is harmless and the trail records only real changes.
    if (partner.isActive === input.isActive) return partner;
    changed = true;

    const updated = await updatePartnerActive(trx, id, input.isActive);
    await insertAuditLogs(trx, [
      {
        businessId: updated.businessId,
        entity: 'partner',
        entityId: updated.id,
        action: input.isActive ? 'partner.activated' : 'partner.deactivated',
        actor: manager.actor,
        changes: { before: { isActive: partner.isActive }, after: { isActive: updated.isActive } },
      },
    ]);
    return updated;
  });
  await announce(changes, result, (partner) =>
    changed ? { action: partner.isActive ? 'partner.activated' : 'partner.deactivated', businessId: partner.businessId, partnerIds: [partner.id], ranges: [] } : null,
  );
  return result;
}
