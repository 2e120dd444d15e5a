import { isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import { findMembershipsByIds } from './accounts.repository.js';
import type { MembershipModel } from './membership.model.js';

/** A membership is visible to its own account, and to the business's owners and staff (and admins). */
export function canSeeMembership(viewer: Viewer, membership: MembershipModel): boolean {
  return membership.accountId === viewer.accountId || isStaffOf(viewer, membership.businessId);
}

export function membershipById(loaders: LoaderRegistry) {
  return loaders.get<string, MembershipModel | null>('MembershipById', async (ids) =>
    inKeyOrder(ids, await findMembershipsByIds(loaders.db, ids), (m) => canSeeMembership(loaders.viewer, m)),
  );
}
