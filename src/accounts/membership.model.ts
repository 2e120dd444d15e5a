import type { MembershipRole } from '../auth/viewer.js';

/** A membership as the API sees it (raw ids). */
export interface MembershipModel {
  id: string;
  accountId: string;
  businessId: string;
  role: MembershipRole;
  partnerId: string | null;
}
