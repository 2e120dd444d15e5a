import type { MembershipRole } from '../auth/viewer.js';

/** An invitation as the API sees it (raw ids); its token is never kept, only its hash. */
export interface InvitationModel {
  id: string;
  businessId: string;
  email: string;
  role: MembershipRole;
  partnerId: string | null;
  expiresAt: string;
  acceptedAt: string | null;
  acceptedBy: string | null;
  membershipId: string | null;
}
