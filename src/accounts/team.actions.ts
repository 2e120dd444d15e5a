import { createHash, randomBytes } from 'node:crypto';
import type { MembershipRole as MembershipRoleInput } from '../__generated__/resolvers-types.js';
import { isOwnerOf, isStaffOf, tokenKindOf } from '../auth/access.js';
import type { MembershipRole, Viewer } from '../auth/viewer.js';
import type { MembershipRoleColumn } from '../db/tables.js';
import { findPartnersByIds } from '../partners/partners.repository.js';
import type { Change } from '../shared/change-feed.js';
import { forbidden } from '../shared/errors.js';
import { rawIdOf } from '../shared/global-id.js';
import type { Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import {
  findLiveMembershipConflicts,
  findMembershipsByIds,
  insertMembership,
  lockMembershipById,
  lockOwnerMemberships,
  partnerHasMembership,
  removeMembership,
  updateMembershipRole,
} from './accounts.repository.js';
import type { InvitationModel } from './invitation.model.js';
import { insertInvitation, lockInvitationByTokenHash, markInvitationAccepted } from './invitations.repository.js';
import type { MembershipModel } from './membership.model.js';

/**
 * The team of a business: invitations, memberships and their roles. Who may do what:
 * - owners (and admins) manage every membership, owners included;
 * - staff invite, change and remove staff and partner memberships, never an owner's, and never
 *   make anyone an owner;
 * - any member may leave (remove their own membership);
 * - the last owner can neither leave nor be demoted (`LAST_OWNER`): every change that could end
 *   an owner membership locks the business's owner memberships first, so two owners removing each
 *   other at the same moment leave one.
 * Every change names the member's account in `Change.accountIds`: their cached access is dropped on
 * every instance before the mutation returns (accounts/account-access.ts).
 */

/** How long an invitation's token can be accepted. */
export const INVITATION_DAYS = 7;
const MAX_EMAIL_LENGTH = 320;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const roleColumn = (role: MembershipRole): MembershipRoleColumn => role.toLowerCase() as MembershipRoleColumn;
const MEMBERSHIP_FIELD = ['input', 'membershipId'];
const PARTNER_FIELD = ['input', 'partnerId'];

/** SHA-256 of a token, as stored: the token itself is never kept. */
export function hashInvitationToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export interface InviteInput {
  businessId: string;
  email: string;
  role: MembershipRoleInput;
  partnerId?: string | null;
}

/** Who may invite to the business the input names: its owners and staff (owners only for an owner). Decided before any SQL. */
export function inviterOf(viewer: Viewer, input: InviteInput): { businessId: string } | null {
  const businessId = rawIdOf(input.businessId, 'Business');
  if (!businessId || !isStaffOf(viewer, businessId)) return null;
  if (input.role === 'OWNER' && !isOwnerOf(viewer, businessId)) throw forbidden(`Expected an owner's token to invite an owner, got ${tokenKindOf(viewer)} of a staff member.`);
  return { businessId };
}

/** Members and admins change teams; whose, the step decides from the membership. */
export function teamMemberOf(viewer: Viewer): Viewer | null {
  return viewer.admin || viewer.memberships.length > 0 ? viewer : null;
}

/** An account token's viewer: only an account can become a member. */
export function accountOf(viewer: Viewer): { accountId: string } | null {
  return viewer.accountId ? { accountId: viewer.accountId } : null;
}

function checkEmail(email: string): string {
  const trimmed = email.trim().toLowerCase();
  if (trimmed.length > MAX_EMAIL_LENGTH || !EMAIL.test(trimmed)) {
    abort('INVALID_INPUT', `Expected an e-mail address of at most ${MAX_EMAIL_LENGTH} characters such as name@example.com, got ${JSON.stringify(email.slice(0, 80))}.`, ['input', 'email']);
  }
  return trimmed;
}

/** The partner a `PARTNER` role acts as: of the business, not linked to another live membership. Null for other roles. */
async function partnerForRole(trx: Trx, businessId: string, role: MembershipRole, partnerGid: string | null | undefined, exceptMembershipId: string | null): Promise<string | null> {
  if (role !== 'PARTNER') {
    if (partnerGid) abort('INVALID_INPUT', `Expected no \`partnerId\` for the role ${role}: only a PARTNER membership acts as a partner record.`, PARTNER_FIELD);
    return null;
  }
  if (!partnerGid) abort('INVALID_INPUT', 'Expected `partnerId` for the role PARTNER: the partner record the member will act as.', PARTNER_FIELD);
  const id = rawIdOf(partnerGid, 'Partner');
  const [partner] = id ? await findPartnersByIds(trx, [id]) : [];
  if (!partner || partner.businessId !== businessId) abort('NOT_FOUND', `No partner with ID "${partnerGid}" in the business.`, PARTNER_FIELD);
  if (await partnerHasMembership(trx, partner.id, exceptMembershipId)) abort('ALREADY_MEMBER', `The partner "${partner.name}" has an account already: remove its membership first.`, PARTNER_FIELD);
  return partner.id;
}

const membershipChange = (action: string, membership: MembershipModel): Change => ({
  action,
  businessId: membership.businessId,
  partnerIds: [],
  ranges: [],
  accountIds: [membership.accountId],
  availability: false,
});

export async function inviteMember(trx: Trx, scope: { businessId: string }, actor: string, input: InviteInput): Promise<Step<{ invitation: InvitationModel; token: string | null }>> {
  const email = checkEmail(input.email);
  const partnerId = await partnerForRole(trx, scope.businessId, input.role, input.partnerId, null);
  const token = `inv_${randomBytes(32).toString('base64url')}`;
  const expiresAt = new Date(Date.now() + INVITATION_DAYS * 86_400_000).toISOString();
  const invitation = await insertInvitation(trx, { businessId: scope.businessId, email, role: roleColumn(input.role), partnerId, tokenHash: hashInvitationToken(token), invitedBy: actor, expiresAt });
  return {
    value: { invitation, token },
    audit: [{ businessId: scope.businessId, entity: 'invitation', entityId: invitation.id, action: 'invitation.created', changes: { after: { email, role: input.role, partnerId, expiresAt } } }],
  };
}

export async function acceptInvitation(trx: Trx, accountId: string, input: { token: string }): Promise<Step<MembershipModel>> {
  const invitation = input.token.length <= 200 ? await lockInvitationByTokenHash(trx, hashInvitationToken(input.token)) : undefined;
  if (!invitation) abort('NOT_FOUND', 'No invitation with this token: check that it was copied whole.', ['input', 'token']);
  if (invitation.acceptedAt) abort('INVITATION_USED', `The invitation was accepted at ${invitation.acceptedAt}; a token is single-use.`, ['input', 'token']);
  if (Date.parse(invitation.expiresAt) <= Date.now()) abort('INVITATION_EXPIRED', `The invitation expired at ${invitation.expiresAt}; ask for a new one.`, ['input', 'token']);
  const conflicts = await findLiveMembershipConflicts(trx, { accountId, businessId: invitation.businessId, partnerId: invitation.partnerId });
  if (conflicts.some((m) => m.accountId === accountId && m.businessId === invitation.businessId)) {
    abort('ALREADY_MEMBER', 'The account is a member of the business already: change its role with membershipRoleSet instead.', ['input', 'token']);
  }
  if (conflicts.length) abort('ALREADY_MEMBER', 'The partner record of the invitation has an account already.', ['input', 'token']);
  const id = await insertMembership(trx, { accountId, businessId: invitation.businessId, role: roleColumn(invitation.role), partnerId: invitation.partnerId });
  await markInvitationAccepted(trx, invitation.id, accountId, id);
  const membership: MembershipModel = { id, accountId, businessId: invitation.businessId, role: invitation.role, partnerId: invitation.partnerId };
  return {
    value: membership,
    changes: [membershipChange('membership.created', membership)],
    audit: [{ businessId: membership.businessId, entity: 'membership', entityId: id, action: 'membership.created', changes: { after: { accountId, role: membership.role, partnerId: membership.partnerId, invitationId: invitation.id } } }],
  };
}

function notFound(gid: string): never {
  return abort('NOT_FOUND', `No membership with ID "${gid}".`, MEMBERSHIP_FIELD);
}

/**
 * The membership the input names, locked, with the business's owner memberships locked first when
 * it is an owner's (always in that order: owners, then the row, so two changes never deadlock).
 */
async function lockForChange(trx: Trx, viewer: Viewer, gid: string): Promise<{ membership: MembershipModel; owners: string[] }> {
  const id = rawIdOf(gid, 'Membership');
  const [seen] = id ? await findMembershipsByIds(trx, [id]) : [];
  if (!seen || !(seen.accountId === viewer.accountId || isStaffOf(viewer, seen.businessId))) notFound(gid);
  const owners = seen.role === 'OWNER' ? await lockOwnerMemberships(trx, seen.businessId) : [];
  const membership = await lockMembershipById(trx, seen.id);
  if (!membership) notFound(gid);
  return { membership, owners };
}

function checkNotLastOwner(membership: MembershipModel, owners: string[], what: string): void {
  if (membership.role === 'OWNER' && !owners.some((id) => id !== membership.id)) {
    abort('LAST_OWNER', `The membership is the business's last owner: ${what}; make another member an owner first.`, MEMBERSHIP_FIELD);
  }
}

export async function endMembership(trx: Trx, viewer: Viewer, input: { membershipId: string }): Promise<Step<string>> {
  const { membership, owners } = await lockForChange(trx, viewer, input.membershipId);
  const own = membership.accountId === viewer.accountId;
  if (!own && membership.role === 'OWNER' && !isOwnerOf(viewer, membership.businessId)) {
    throw forbidden(`Expected an owner's token to remove an owner, got ${tokenKindOf(viewer)} of a staff member.`);
  }
  checkNotLastOwner(membership, owners, 'it cannot leave');
  await removeMembership(trx, membership.id);
  return {
    value: membership.id,
    changes: [membershipChange('membership.removed', membership)],
    audit: [{ businessId: membership.businessId, entity: 'membership', entityId: membership.id, action: 'membership.removed', changes: { before: { accountId: membership.accountId, role: membership.role, partnerId: membership.partnerId } } }],
  };
}

export async function setMembershipRole(trx: Trx, viewer: Viewer, input: { membershipId: string; role: MembershipRoleInput; partnerId?: string | null }): Promise<Step<MembershipModel>> {
  const { membership, owners } = await lockForChange(trx, viewer, input.membershipId);
  const owner = isOwnerOf(viewer, membership.businessId);
  if (!owner && (membership.role === 'OWNER' || input.role === 'OWNER')) {
    throw forbidden(`Expected an owner's token to make or unmake an owner, got ${tokenKindOf(viewer)}${isStaffOf(viewer, membership.businessId) ? ' of a staff member' : ''}.`);
  }
  if (!owner && !isStaffOf(viewer, membership.businessId)) throw forbidden(`Expected an owner's or staff token of the business to change a role, got ${tokenKindOf(viewer)} of the member.`);
  if (input.role !== 'OWNER') checkNotLastOwner(membership, owners, 'it cannot be demoted');
  const partnerId = await partnerForRole(trx, membership.businessId, input.role, input.partnerId, membership.id);
  if (membership.role === input.role && membership.partnerId === partnerId) return { value: membership };
  const updated = await updateMembershipRole(trx, membership.id, roleColumn(input.role), partnerId);
  return {
    value: updated,
    changes: [membershipChange('membership.role_changed', updated)],
    audit: [{ businessId: updated.businessId, entity: 'membership', entityId: updated.id, action: 'membership.role_changed', changes: { before: { role: membership.role, partnerId: membership.partnerId }, after: { role: updated.role, partnerId: updated.partnerId } } }],
  };
}
