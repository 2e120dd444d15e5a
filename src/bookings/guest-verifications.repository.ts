import { sql } from 'kysely';
import { query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';

/** A guest booking's verification, as the guest booking steps see it (no code, no hashes). */
export interface GuestVerificationModel {
  id: string;
  /** What the guest names it by (guestBookingConfirm's verificationId): random, unguessable. */
  publicId: string;
  businessId: string;
  holdId: string;
  name: string;
  email: string | null;
  phone: string | null;
  expiresAt: string;
}

/** What checking a code needs: its salted hash, and the attempt just counted. */
export interface CountedAttempt extends GuestVerificationModel {
  salt: string;
  codeHash: string;
  attempts: number;
  maxAttempts: number;
}

/** Why a code can no longer be tried, read when countAttempt found nothing to count. */
export interface DeadVerification {
  confirmed: boolean;
  exhausted: boolean;
  expired: boolean;
}

const COLUMNS = sql.raw(`v.id, v.public_id AS "publicId", v.business_id AS "businessId", v.hold_id AS "holdId", v.name, v.email, v.phone, v.expires_at AS "expiresAt"`);

export async function insertGuestVerification(trx: Trx, v: { publicId: string; businessId: string; holdId: string; name: string; email: string | null; phone: string | null; salt: string; codeHash: string; maxAttempts: number; expiresAt: string }): Promise<GuestVerificationModel> {
  const [row] = await query<GuestVerificationModel>(trx, 'insertGuestVerification', sql`
    INSERT INTO guest_verifications AS v (public_id, business_id, hold_id, name, email, phone, salt, code_hash, max_attempts, expires_at)
    VALUES (${v.publicId}, ${v.businessId}::bigint, ${v.holdId}::bigint, ${v.name}, ${v.email}, ${v.phone}, ${v.salt}, ${v.codeHash}, ${v.maxAttempts}, ${v.expiresAt}::timestamptz)
    RETURNING ${COLUMNS}`);
  return row;
}

/**
 * Counts an attempt at the code, outside any transaction (autocommit): a wrong code's attempt stays
 * counted although the confirmation is refused. One statement; at most `max_attempts` attempts are
 * ever counted, however many race. Undefined when the code cannot be tried (missing, used, dead, lapsed).
 */
export async function countAttempt(db: Db, publicId: string): Promise<CountedAttempt | undefined> {
  const [row] = await query<CountedAttempt>(db, 'countGuestCodeAttempt', sql`
    UPDATE guest_verifications AS v SET attempts = v.attempts + 1
    WHERE v.public_id = ${publicId} AND v.confirmed_at IS NULL AND v.attempts < v.max_attempts AND v.expires_at > now()
    RETURNING ${COLUMNS}, v.salt, v.code_hash AS "codeHash", v.attempts, v.max_attempts AS "maxAttempts"`);
  return row;
}

export async function findDeadVerification(db: Db, publicId: string): Promise<DeadVerification | undefined> {
  const [row] = await query<DeadVerification>(db, 'findDeadVerification', sql`
    SELECT v.confirmed_at IS NOT NULL AS confirmed, v.attempts >= v.max_attempts AS exhausted, v.expires_at <= now() AS expired
    FROM guest_verifications v WHERE v.public_id = ${publicId}`);
  return row;
}

/** Locks an unconfirmed verification for its booking; undefined when it is gone or was confirmed meanwhile. */
export async function lockOpenVerification(trx: Trx, id: string): Promise<GuestVerificationModel | undefined> {
  const [row] = await query<GuestVerificationModel>(trx, 'lockOpenVerification', sql`
    SELECT ${COLUMNS} FROM guest_verifications v WHERE v.id = ${id}::bigint AND v.confirmed_at IS NULL FOR UPDATE`);
  return row;
}

export async function markVerificationConfirmed(trx: Trx, id: string, bookingId: string, manageTokenHash: string): Promise<void> {
  await query(trx, 'markVerificationConfirmed', sql`
    UPDATE guest_verifications SET confirmed_at = now(), booking_id = ${bookingId}::bigint, manage_token_hash = ${manageTokenHash}
    WHERE id = ${id}::bigint`);
}

/** The booking a manage token was handed out for; undefined for an unknown token (guest_verifications_manage_token_key). */
export async function findBookingIdByManageToken(db: Db, manageTokenHash: string): Promise<string | undefined> {
  const [row] = await query<{ bookingId: string }>(db, 'findBookingIdByManageToken', sql`
    SELECT v.booking_id AS "bookingId" FROM guest_verifications v WHERE v.manage_token_hash = ${manageTokenHash}`);
  return row?.bookingId;
}

/** Kills a code that could not be delivered: no attempt is left. */
export async function killVerification(db: Db, id: string): Promise<void> {
  await query(db, 'killVerification', sql`UPDATE guest_verifications SET attempts = max_attempts WHERE id = ${id}::bigint`);
}
