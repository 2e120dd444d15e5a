import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { PayoutModel } from './payout.model.js';

const PAYOUT_COLUMNS = sql.raw(
  `po.id, po.business_id AS "businessId", po.partner_id AS "partnerId", po.provider,
   po.provider_payout_id AS "providerPayoutId", po.amount_cents::integer AS "amountCents", po.currency,
   upper(po.status) AS status, po.failure_reason AS "failureReason", po.created_at AS "createdAt",
   po.submitted_at AS "submittedAt", po.settled_at AS "settledAt"`,
);

export function findPayoutsByIds(db: Db, ids: readonly string[]): Promise<PayoutModel[]> {
  return query(db, 'findPayoutsByIds', sql`SELECT ${PAYOUT_COLUMNS} FROM payouts po WHERE po.id = ANY(${ids}::bigint[])`);
}

/** A page of each partner's payouts, newest first: one statement for all partners. */
export function findPayoutPagesByPartnerIds(db: Db, partnerIds: readonly string[], args: { after: string | null; limit: number }): Promise<Map<string, PayoutModel[]>> {
  return lateralPages<PayoutModel>(db, 'findPayoutPagesByPartnerIds', partnerIds, sql`
    SELECT p.parent_id AS "parentId", ${PAYOUT_COLUMNS} FROM payouts po
    WHERE ${allOf([sql`po.partner_id = p.parent_id`, args.after !== null && sql`po.id < ${args.after}::bigint`])}
    ORDER BY po.id DESC LIMIT ${args.limit}`);
}

// ---------------------------------------------------------------------------------------------
// Writes: inside the action's transaction.

/** A partner's unpaid earnings in one currency, locked: what a payout would bundle. */
export function lockUnpaidEarnings(trx: Trx, partnerId: string, currency: string): Promise<Array<{ id: string; amountCents: number }>> {
  return query(trx, 'lockUnpaidEarnings', sql`
    SELECT er.id, er.amount_cents AS "amountCents" FROM partner_earnings er
    WHERE er.partner_id = ${partnerId}::bigint AND er.payout_id IS NULL AND er.currency = ${currency}
    ORDER BY er.id FOR UPDATE`);
}

export async function insertPayout(trx: Trx, p: { businessId: string; partnerId: string; provider: string; amountCents: number; currency: string }): Promise<PayoutModel> {
  const rows = await query<PayoutModel>(trx, 'insertPayout', sql`
    INSERT INTO payouts AS po (business_id, partner_id, provider, amount_cents, currency)
    VALUES (${p.businessId}::bigint, ${p.partnerId}::bigint, ${p.provider}, ${p.amountCents}, ${p.currency})
    RETURNING ${PAYOUT_COLUMNS}`);
  return rows[0];
}

/**
 * Puts the earnings into the payout: sets their payout and writes its items, in one statement. An
 * earning already held by a live payout is skipped by the UPDATE, and its item would break
 * payout_items_earning_key: the count returned tells the caller whether every earning was claimed.
 */
export async function claimEarnings(trx: Trx, payout: PayoutModel, earningIds: readonly string[]): Promise<number> {
  const rows = await query<{ claimed: number }>(trx, 'claimEarnings', sql`
    WITH claimed AS (
      UPDATE partner_earnings er SET payout_id = ${payout.id}::bigint
      WHERE er.id = ANY(${earningIds}::bigint[]) AND er.payout_id IS NULL
      RETURNING er.id
    ), items AS (
      INSERT INTO payout_items (business_id, payout_id, earning_id)
      SELECT ${payout.businessId}::bigint, ${payout.id}::bigint, id FROM claimed
      RETURNING earning_id
    )
    SELECT count(*)::integer AS claimed FROM items`);
  return rows[0].claimed;
}

/** The payout a provider's event names (our reference, of that provider), locked. */
export async function lockPayoutByReference(trx: Trx, provider: string, id: string): Promise<PayoutModel | undefined> {
  const rows = await query<PayoutModel>(trx, 'lockPayoutByReference', sql`
    SELECT ${PAYOUT_COLUMNS} FROM payouts po WHERE po.id = ${id}::bigint AND po.provider = ${provider} FOR UPDATE`);
  return rows[0];
}

/** Records the provider's reference once it accepted the payout (a second answer changes nothing). */
export async function recordPayoutSubmitted(trx: Trx, id: string, providerPayoutId: string): Promise<PayoutModel | undefined> {
  const rows = await query<PayoutModel>(trx, 'recordPayoutSubmitted', sql`
    UPDATE payouts po SET provider_payout_id = ${providerPayoutId}, submitted_at = now(), updated_at = now()
    WHERE po.id = ${id}::bigint AND po.provider_payout_id IS NULL RETURNING ${PAYOUT_COLUMNS}`);
  return rows[0];
}

/** Settles a pending payout as paid or failed; a failed one lets go of its earnings (their items stay, released). */
export async function settlePayout(trx: Trx, id: string, outcome: { status: 'PAID' | 'FAILED'; providerPayoutId: string; failureReason: string | null }): Promise<PayoutModel> {
  const rows = await query<PayoutModel>(trx, 'settlePayout', sql`
    UPDATE payouts po SET status = ${outcome.status.toLowerCase()}, settled_at = now(), updated_at = now(),
      failure_reason = ${outcome.failureReason},
      provider_payout_id = COALESCE(po.provider_payout_id, ${outcome.providerPayoutId}),
      submitted_at = COALESCE(po.submitted_at, now())
    WHERE po.id = ${id}::bigint RETURNING ${PAYOUT_COLUMNS}`);
  return rows[0];
}

/** A failed payout's earnings are unpaid again: its items are released and the earnings let go, in one statement. */
export async function releasePayoutEarnings(trx: Trx, payoutId: string): Promise<number> {
  const rows = await query<{ released: number }>(trx, 'releasePayoutEarnings', sql`
    WITH items AS (
      UPDATE payout_items SET released_at = now() WHERE payout_id = ${payoutId}::bigint AND released_at IS NULL RETURNING earning_id
    ), earnings AS (
      UPDATE partner_earnings er SET payout_id = NULL WHERE er.payout_id = ${payoutId}::bigint RETURNING er.id
    )
    SELECT count(*)::integer AS released FROM earnings`);
  return rows[0].released;
}

/** A business's pending payouts the provider has not accepted yet, oldest first. */
export function findUnsubmittedPayouts(db: Db, businessId: string, limit: number): Promise<PayoutModel[]> {
  return query(db, 'findUnsubmittedPayouts', sql`
    SELECT ${PAYOUT_COLUMNS} FROM payouts po
    WHERE po.business_id = ${businessId}::bigint AND po.status = 'pending' AND po.provider_payout_id IS NULL
    ORDER BY po.id LIMIT ${limit}`);
}
