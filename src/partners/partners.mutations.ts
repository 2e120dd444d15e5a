import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { forbidden, unauthenticated } from '../shared/errors.js';
import { toPayload } from '../shared/payload.js';
import { partnerManagerOf, setPartnerActive, type PartnerManager } from './partners.actions.js';

/** The caller as a partner manager; a caller who may manage no partner at all is refused at the top level. */
function partnerManager(viewer: Viewer): PartnerManager {
  const manager = partnerManagerOf(viewer);
  if (manager) return manager;
  if (viewer.role === 'ANONYMOUS') throw unauthenticated();
  throw forbidden(`Expected an admin or staff token to activate or deactivate a partner, got a ${viewer.role.toLowerCase()} token.`);
}

export const partnerMutations: Resolvers = {
  Mutation: {
    partnerSetActive: async (_, { input }, context) =>
      toPayload(context, 'partner', await setPartnerActive(context.app.db, context.app.changes, partnerManager(context.viewer), input)),
  },
};
