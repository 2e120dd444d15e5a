import { isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';

/**
 * Who sees a partner's money (share, earnings, payouts): staff and owners of the partner's business,
 * admins, and the partner themself (a partner membership acting as that partner record). Anyone
 * else reads them as missing.
 */
export function canSeePartnerMoney(viewer: Viewer, partner: { partnerId: string; businessId: string }): boolean {
  return isStaffOf(viewer, partner.businessId) || viewer.memberships.some((m) => m.role === 'PARTNER' && m.partnerId === partner.partnerId && m.businessId === partner.businessId);
}
