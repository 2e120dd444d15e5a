import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById, type ResultMemory } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { toGlobalId } from '../shared/global-id.js';
import { mutation } from '../shared/mutation.js';
import { referenced } from '../shared/referenced.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { membershipById } from './accounts.loaders.js';
import type { InvitationModel } from './invitation.model.js';
import { findInvitationsByIds } from './invitations.repository.js';
import { acceptInvitation, accountOf, endMembership, inviteMember, inviterOf, setMembershipRole, teamMemberOf } from './team.actions.js';

/** A retried invite gets its invitation back, without the token: only its hash is stored, so it is shown once. */
function rememberInvitation(context: RequestContext): ResultMemory<{ invitation: InvitationModel; token: string | null }> {
  return {
    save: (value) => value.invitation.id,
    restore: async (saved) => {
      const [invitation] = await findInvitationsByIds(context.app.db, [String(saved)]);
      return invitation ? { invitation, token: null } : null;
    },
  };
}

const rememberRemovedId: ResultMemory<string> = { save: (id) => id, restore: async (saved) => String(saved) };

export const teamMutations: Resolvers = {
  Mutation: {
    memberInvite: mutation({
      name: 'memberInvite',
      who: { expected: "an owner's, staff or admin token of the business to invite a member", scope: inviterOf },
      inside: (trx, { scope, actor, input }) => inviteMember(trx, scope, actor, input),
      remember: rememberInvitation,
      payload: (value) => ({ invitation: value?.invitation ?? null, token: value?.token ?? null }),
    }),
    invitationAccept: mutation({
      name: 'invitationAccept',
      who: { expected: 'an account token (signed in through the identity provider) to accept an invitation', scope: accountOf },
      inside: (trx, { scope, input }) => acceptInvitation(trx, scope.accountId, input),
      remember: (context) => rememberById((id) => membershipById(context.loaders).load(id)),
      payload: (membership) => ({ membership }),
    }),
    membershipRemove: mutation({
      name: 'membershipRemove',
      who: { expected: 'a member or admin token to remove a membership', scope: teamMemberOf },
      inside: (trx, { viewer, input }) => endMembership(trx, viewer, input),
      remember: () => rememberRemovedId,
      payload: (id) => ({ removedMembershipId: id === null ? null : toGlobalId('Membership', id) }),
    }),
    membershipRoleSet: mutation({
      name: 'membershipRoleSet',
      who: { expected: "an owner's, staff or admin token to change a membership's role", scope: teamMemberOf },
      inside: (trx, { viewer, input }) => setMembershipRole(trx, viewer, input),
      remember: (context) => rememberById((id) => membershipById(context.loaders).load(id)),
      payload: (membership) => ({ membership }),
    }),
  },
  Invitation: {
    business: (invitation, _, { loaders }) => referenced(businessById(loaders), invitation.businessId, 'Invitation.business', invitation.id),
    partner: (invitation, _, { loaders }) => (invitation.partnerId ? partnerById(loaders).load(invitation.partnerId) : null),
  },
};
