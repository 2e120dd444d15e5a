import { sql } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { PartnerModel } from '../partners/partner.model.js';
import { findPartnersByIds } from '../partners/partners.repository.js';
import type { Trx } from '../shared/transaction.js';
import type { EarningModel, EarningTotals, PayoutShareModel } from './payout.model.js';

/** The partner_earnings table, and the share settings earnings are computed from. */

const EARNING_COLUMNS = sql.raw(
  `er.id, er.business_id AS "businessId", er.partner_id AS "partnerId", er.payment_id AS "paymentId",
   er.booking_id AS "bookingId", upper(er.kind) AS kind, er.basis_cents AS "basisCents",
   er.share_bps AS "shareBasisPoints", er.amount_cents AS "amountCents", er.currency,
   er.occurred_at AS "occurredAt", er.payout_id AS "payoutId"`,
);

// ---------------------------------------------------------------------------------------------
// Written by the outbox relay's hook, in the transaction that positions the payment events.

/**
 * The partner's share of each payment the events captured: the booking's partner at the time of
 * the event, at their share (their own, else the business's). A share of 0, or one that rounds to
 * nothing, records no earning. A second capture event of one payment, or the same event again,
 * writes nothing (ON CONFLICT: one capture per payment, one earning per source event).
 */
export async function insertCaptureEarnings(trx: Trx, eventIds: readonly string[]): Promise<void> {
  await sql`/* insertCaptureEarnings */
    INSERT INTO partner_earnings (business_id, partner_id, payment_id, booking_id, kind, basis_cents, share_bps, amount_cents, currency, source_event_id, occurred_at)
    SELECT e.business_id, pa.id, pm.id, e.booking_id, 'capture', pm.amount_cents, s.bps,
           (pm.amount_cents::bigint * s.bps / 10000)::integer, pm.currency, e.id, e.occurred_at
    FROM booking_events e
    JOIN payments pm ON pm.id = e.payment_id
    JOIN businesses b ON b.id = e.business_id
    JOIN partners pa ON pa.id = e.partner_ids[1]
    CROSS JOIN LATERAL (SELECT COALESCE(pa.share_bps, b.partner_share_bps) AS bps) s
    WHERE e.id = ANY(${eventIds}::bigint[]) AND pm.amount_cents::bigint * s.bps / 10000 > 0
    ORDER BY e.id
    ON CONFLICT DO NOTHING`.execute(trx);
}

/**
 * Gives back the share of what was refunded of each payment (one event per payment: the caller
 * keeps each payment's last): the capture's partner and share, proportional to the amount refunded
 * so far (`payments.amount_refunded_cents`, in full today), less what earlier refunds gave back. So
 * partial refunds add up to the whole share and never more, and a refund of a payment that earned
 * nothing gives back nothing.
 */
export async function insertRefundEarnings(trx: Trx, eventIds: readonly string[]): Promise<void> {
  await sql`/* insertRefundEarnings */
    INSERT INTO partner_earnings (business_id, partner_id, payment_id, booking_id, kind, basis_cents, share_bps, amount_cents, currency, source_event_id, occurred_at)
    SELECT c.business_id, c.partner_id, c.payment_id, c.booking_id, 'refund', pm.amount_refunded_cents, c.share_bps,
           -(t.target - done.given_back)::integer, c.currency, e.id, e.occurred_at
    FROM booking_events e
    JOIN payments pm ON pm.id = e.payment_id
    JOIN partner_earnings c ON c.payment_id = e.payment_id AND c.kind = 'capture'
    CROSS JOIN LATERAL (
      SELECT COALESCE(-sum(r.amount_cents), 0)::bigint AS given_back FROM partner_earnings r WHERE r.payment_id = e.payment_id AND r.kind = 'refund'
    ) done
    CROSS JOIN LATERAL (SELECT c.amount_cents::bigint * pm.amount_refunded_cents / GREATEST(pm.amount_cents, 1) AS target) t
    WHERE e.id = ANY(${eventIds}::bigint[]) AND t.target > done.given_back
    ORDER BY e.id
    ON CONFLICT DO NOTHING`.execute(trx);
}

// ---------------------------------------------------------------------------------------------
// Reads.

export interface EarningListArgs {
  from: string;
  to: string;
  /** The sort key (occurredAt, id) of the last earning seen, newest first. */
  after: [string, string] | null;
  limit: number;
}

/** A page of each partner's earnings in [from, to), newest first: one statement for all partners. */
export function findEarningPagesByPartnerIds(db: Db, partnerIds: readonly string[], args: EarningListArgs): Promise<Map<string, EarningModel[]>> {
  return lateralPages<EarningModel>(db, 'findEarningPagesByPartnerIds', partnerIds, sql`
    SELECT p.parent_id AS "parentId", ${EARNING_COLUMNS} FROM partner_earnings er
    WHERE ${allOf([
      sql`er.partner_id = p.parent_id AND er.occurred_at >= ${args.from}::timestamptz AND er.occurred_at < ${args.to}::timestamptz`,
      args.after && sql`(er.occurred_at, er.id) < (${args.after[0]}::timestamptz, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY er.occurred_at DESC, er.id DESC LIMIT ${args.limit}`);
}

/** Each partner's totals over [from, to): net, and what no live payout holds. */
export async function sumEarningsByPartnerIds(db: Db, partnerIds: readonly string[], range: { from: string; to: string }): Promise<Map<string, EarningTotals>> {
  const rows = await query<EarningTotals & { partnerId: string }>(db, 'sumEarningsByPartnerIds', sql`
    SELECT er.partner_id AS "partnerId", COALESCE(sum(er.amount_cents), 0)::integer AS "totalCents",
           COALESCE(sum(er.amount_cents) FILTER (WHERE er.payout_id IS NULL), 0)::integer AS "unpaidCents", count(*)::integer AS count
    FROM partner_earnings er
    WHERE er.partner_id = ANY(${partnerIds}::bigint[]) AND er.occurred_at >= ${range.from}::timestamptz AND er.occurred_at < ${range.to}::timestamptz
    GROUP BY er.partner_id`);
  return new Map(rows.map((r) => [r.partnerId, r]));
}

/** A page of each payout's earnings (what it bundled, also after it failed), oldest first. */
export function findEarningPagesByPayoutIds(db: Db, payoutIds: readonly string[], args: { after: string | null; limit: number }): Promise<Map<string, EarningModel[]>> {
  return lateralPages<EarningModel>(db, 'findEarningPagesByPayoutIds', payoutIds, sql`
    SELECT p.parent_id AS "parentId", ${EARNING_COLUMNS}
    FROM payout_items it JOIN partner_earnings er ON er.id = it.earning_id
    WHERE ${allOf([sql`it.payout_id = p.parent_id`, args.after !== null && sql`it.earning_id > ${args.after}::bigint`])}
    ORDER BY it.earning_id LIMIT ${args.limit}`);
}

/** The share each partner earns, with the business's it falls back to. */
export function findPayoutSharesByPartnerIds(db: Db, partnerIds: readonly string[]): Promise<Array<PayoutShareModel & { businessId: string }>> {
  return query(db, 'findPayoutSharesByPartnerIds', sql`
    SELECT pa.id AS "partnerId", pa.business_id AS "businessId", COALESCE(pa.share_bps, b.partner_share_bps) AS "basisPoints",
           pa.share_bps AS "partnerBasisPoints", b.partner_share_bps AS "businessBasisPoints"
    FROM partners pa JOIN businesses b ON b.id = pa.business_id
    WHERE pa.id = ANY(${partnerIds}::bigint[])`);
}

/** Each business's share for its partners. */
export function findBusinessSharesByIds(db: Db, businessIds: readonly string[]): Promise<Array<{ id: string; basisPoints: number }>> {
  return query(db, 'findBusinessSharesByIds', sql`
    SELECT b.id, b.partner_share_bps AS "basisPoints" FROM businesses b WHERE b.id = ANY(${businessIds}::bigint[])`);
}

// ---------------------------------------------------------------------------------------------
// Share settings: inside the mutation's transaction.

export async function updateBusinessShare(trx: Trx, businessId: string, basisPoints: number): Promise<number | undefined> {
  const rows = await query<{ before: number }>(trx, 'updateBusinessShare', sql`
    UPDATE businesses b SET partner_share_bps = ${basisPoints}
    FROM (SELECT id, partner_share_bps AS before FROM businesses WHERE id = ${businessId}::bigint AND deleted_at IS NULL FOR UPDATE) old
    WHERE b.id = old.id RETURNING old.before`);
  return rows[0]?.before;
}

/** Sets a live partner's own share (null: the business's); undefined when the business has no such partner. */
export async function updatePartnerShare(trx: Trx, businessId: string, partnerId: string, basisPoints: number | null): Promise<{ before: number | null; partner: PartnerModel } | undefined> {
  const rows = await query<{ before: number | null }>(trx, 'updatePartnerShare', sql`
    UPDATE partners pa SET share_bps = ${basisPoints}::integer
    FROM (SELECT id, share_bps AS before FROM partners WHERE id = ${partnerId}::bigint AND business_id = ${businessId}::bigint AND deleted_at IS NULL FOR UPDATE) old
    WHERE pa.id = old.id RETURNING old.before, pa.id`);
  if (!rows[0]) return undefined;
  const [partner] = await findPartnersByIds(trx, [partnerId]);
  return { before: rows[0].before, partner };
}
