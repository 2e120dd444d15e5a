import { sql } from 'kysely';
import type { MembershipRoleColumn } from '../db/tables.js';
import { query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { InvitationModel } from './invitation.model.js';

/** The only place that builds queries for `invitations`. */
const INVITATION_COLUMNS = sql.raw(
  `i.id, i.business_id AS "businessId", i.email, upper(i.role) AS role, i.partner_id AS "partnerId", i.expires_at AS "expiresAt",
   i.accepted_at AS "acceptedAt", i.accepted_by AS "acceptedBy", i.membership_id AS "membershipId"`,
);

export interface InvitationDraft {
  businessId: string;
  email: string;
  role: MembershipRoleColumn;
  partnerId: string | null;
  tokenHash: string;
  invitedBy: string;
  expiresAt: string;
}

export async function insertInvitation(trx: Trx, draft: InvitationDraft): Promise<InvitationModel> {
  const [row] = await query<InvitationModel>(trx, 'insertInvitation', sql`
    INSERT INTO invitations AS i (business_id, email, role, partner_id, token_hash, invited_by, expires_at)
    VALUES (${draft.businessId}::bigint, ${draft.email}, ${draft.role}, ${draft.partnerId}::bigint, ${draft.tokenHash}, ${draft.invitedBy}, ${draft.expiresAt}::timestamptz)
    RETURNING ${INVITATION_COLUMNS}`);
  return row;
}

export function findInvitationsByIds(db: Db, ids: readonly string[]): Promise<InvitationModel[]> {
  return query(db, 'findInvitationsByIds', sql`SELECT ${INVITATION_COLUMNS} FROM invitations i WHERE i.id = ANY(${ids}::bigint[])`);
}

/** The invitation of a token's hash, locked: two accounts presenting one token accept it once. */
export async function lockInvitationByTokenHash(trx: Trx, tokenHash: string): Promise<InvitationModel | undefined> {
  const [row] = await query<InvitationModel>(trx, 'lockInvitationByTokenHash', sql`
    SELECT ${INVITATION_COLUMNS} FROM invitations i WHERE i.token_hash = ${tokenHash} FOR UPDATE`);
  return row;
}

export async function markInvitationAccepted(trx: Trx, id: string, accountId: string, membershipId: string): Promise<void> {
  await query(trx, 'markInvitationAccepted', sql`
    UPDATE invitations SET accepted_at = now(), accepted_by = ${accountId}::bigint, membership_id = ${membershipId}::bigint WHERE id = ${id}::bigint`);
}
