import type { Resolvers } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { scopeOrRefuse } from '../auth/access.js';
import { rememberById, withIdempotency } from '../idempotency/idempotent-mutation.js';
import { toPayload } from '../shared/payload.js';
import { partnerManagerOf, setPartnerActive, type PartnerManager } from './partners.actions.js';
import { partnerById } from './partners.loaders.js';

/** The caller as a partner manager; a caller who may manage no partner at all is refused at the top level. */
function partnerManager(viewer: Viewer): PartnerManager {
  return scopeOrRefuse(partnerManagerOf(viewer), viewer, 'an admin or staff token to activate or deactivate a partner');
}

export const partnerMutations: Resolvers = {
  Mutation: {
    partnerSetActive: async (_, { input }, context) => {
      const manager = partnerManager(context.viewer);
      const remember = rememberById((id) => partnerById(context.loaders).load(id));
      return toPayload(context, 'partner', await withIdempotency(context, 'partnerSetActive', input, (unit) => setPartnerActive(unit.db, unit.changes, manager, input), remember));
    },
  },
};
