import type { PartnerSetActiveInput } from '../__generated__/resolvers-types.js';
import { managementScopeOf, type ManagementScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { rawIdOf } from '../shared/global-id.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
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

/** The raw id of the partner an input names; a malformed ID reads NOT_FOUND, before any statement. */
export function partnerIdOf(input: { partnerId: string }): string {
  const id = rawIdOf(input.partnerId, 'Partner');
  if (!id) abort('NOT_FOUND', notFoundMessage(input.partnerId), PARTNER_ID_FIELD);
  return id;
}

export async function setPartnerActive(trx: Trx, manager: PartnerManager, id: string, input: PartnerSetActiveInput): Promise<Step<PartnerModel>> {
  const partner = await lockPartnerById(trx, id, manager.businessId);
  if (!partner) abort('NOT_FOUND', notFoundMessage(input.partnerId), PARTNER_ID_FIELD);
  // Asking for the current value succeeds without a write or an audit row, so a retried request
  // is harmless and the trail records only real changes.
  if (partner.isActive === input.isActive) return { value: partner };

  const updated = await updatePartnerActive(trx, id, input.isActive);
  const action = input.isActive ? 'partner.activated' : 'partner.deactivated';
  return {
    value: updated,
    changes: [{ action, businessId: updated.businessId, partnerIds: [updated.id], ranges: [] }],
    audit: [{ businessId: updated.businessId, entity: 'partner', entityId: updated.id, action, changes: { before: { isActive: partner.isActive }, after: { isActive: updated.isActive } } }],
  };
}
