import { sql, type RawBuilder } from 'kysely';
import { allOf, lateralPages, query, type Db } from '../db/sql-helpers.js';
import type { Trx } from '../shared/transaction.js';
import type { RatingModel, RatingSubject, ReviewModel } from './review.model.js';

export const REVIEW_COLUMNS = sql.raw(
  `r.id, r.business_id AS "businessId", r.booking_id AS "bookingId", r.customer_id AS "customerId", r.partner_id AS "partnerId",
   r.service_id AS "serviceId", r.rating, r.body AS text, r.reply, r.replied_at AS "repliedAt", r.hidden_at AS "hiddenAt",
   r.hide_reason AS "hideReason", r.created_at AS "createdAt"`,
);

/**
 * Which hidden reviews a read includes: every one (`all`, an admin), those of the businesses whose
 * team the viewer is on (owners and staff), or none (an empty list: the public).
 */
export type HiddenReviews = 'all' | readonly string[];

function visibleTo(hidden: HiddenReviews): RawBuilder<unknown> | null {
  if (hidden === 'all') return null;
  if (hidden.length === 0) return sql`r.hidden_at IS NULL`;
  return sql`(r.hidden_at IS NULL OR r.business_id = ANY(${hidden}::bigint[]))`;
}

export function findReviewsByIds(db: Db, ids: readonly string[]): Promise<ReviewModel[]> {
  return query(db, 'findReviewsByIds', sql`SELECT ${REVIEW_COLUMNS} FROM reviews r WHERE r.id = ANY(${ids}::bigint[])`);
}

export interface ReviewPageArgs {
  /** The (createdAt, id) of the last review seen; pages go newest first. */
  after: [string, string] | null;
  hidden: HiddenReviews;
  limit: number;
}

/** One page per parent, newest first, through reviews_<parent>_created_idx. */
function reviewPages(db: Db, name: string, column: 'business_id' | 'partner_id' | 'service_id', parentIds: readonly string[], args: ReviewPageArgs) {
  return lateralPages<ReviewModel>(db, name, parentIds, sql`
    SELECT p.parent_id AS "parentId", ${REVIEW_COLUMNS} FROM reviews r
    WHERE ${allOf([
      sql`r.${sql.raw(column)} = p.parent_id`,
      visibleTo(args.hidden),
      args.after && sql`(r.created_at, r.id) < (${args.after[0]}::timestamptz, ${args.after[1]}::bigint)`,
    ])}
    ORDER BY r.created_at DESC, r.id DESC LIMIT ${args.limit}`);
}

export function findReviewPagesByBusinessIds(db: Db, businessIds: readonly string[], args: ReviewPageArgs) {
  return reviewPages(db, 'findReviewPagesByBusinessIds', 'business_id', businessIds, args);
}

export function findReviewPagesByPartnerIds(db: Db, partnerIds: readonly string[], args: ReviewPageArgs) {
  return reviewPages(db, 'findReviewPagesByPartnerIds', 'partner_id', partnerIds, args);
}

export function findReviewPagesByServiceIds(db: Db, serviceIds: readonly string[], args: ReviewPageArgs) {
  return reviewPages(db, 'findReviewPagesByServiceIds', 'service_id', serviceIds, args);
}

export interface RatingKey {
  subject: RatingSubject;
  subjectId: string;
}

/** The aggregates of any mix of businesses, partners and services: one primary-key read each. */
export function findRatingsBySubjects(db: Db, keys: readonly RatingKey[]): Promise<Array<RatingKey & RatingModel>> {
  return query(db, 'findRatingsBySubjects', sql`
    SELECT a.subject, a.subject_id AS "subjectId", ARRAY[a.rating_1, a.rating_2, a.rating_3, a.rating_4, a.rating_5] AS distribution
    FROM unnest(${keys.map((k) => k.subject)}::text[], ${keys.map((k) => k.subjectId)}::bigint[]) AS k(subject, subject_id)
    JOIN rating_aggregates a ON a.subject = k.subject AND a.subject_id = k.subject_id`);
}

// Writes: each runs inside the action's transaction.

export type NewReview = Pick<ReviewModel, 'businessId' | 'bookingId' | 'customerId' | 'partnerId' | 'serviceId' | 'rating' | 'text'>;

/** Inserts the booking's review; undefined when the booking has one already (the unique key decides, also under concurrency). */
export async function insertReview(trx: Trx, draft: NewReview): Promise<ReviewModel | undefined> {
  const result = await sql<ReviewModel>`/* insertReview */
    INSERT INTO reviews AS r (business_id, booking_id, customer_id, partner_id, service_id, rating, body)
    VALUES (${draft.businessId}::bigint, ${draft.bookingId}::bigint, ${draft.customerId}::bigint, ${draft.partnerId}::bigint,
            ${draft.serviceId}::bigint, ${draft.rating}, ${draft.text})
    ON CONFLICT (booking_id) DO NOTHING
    RETURNING ${REVIEW_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** Locks a review for a change; undefined when there is none. */
export async function lockReviewById(trx: Trx, id: string): Promise<ReviewModel | undefined> {
  const result = await sql<ReviewModel>`/* lockReviewById */
    SELECT ${REVIEW_COLUMNS} FROM reviews r WHERE r.id = ${id}::bigint FOR NO KEY UPDATE`.execute(trx);
  return result.rows[0];
}

export async function updateReviewReply(trx: Trx, id: string, reply: string, actor: string): Promise<ReviewModel> {
  const result = await sql<ReviewModel>`/* updateReviewReply */
    UPDATE reviews r SET reply = ${reply}, replied_at = now(), replied_by = ${actor} WHERE r.id = ${id}::bigint
    RETURNING ${REVIEW_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/** Hides the review with a reason, or (reason null) shows it again. */
export async function updateReviewHidden(trx: Trx, id: string, reason: string | null, actor: string): Promise<ReviewModel> {
  const result = await sql<ReviewModel>`/* updateReviewHidden */
    UPDATE reviews r SET hidden_at = CASE WHEN ${reason}::text IS NULL THEN NULL ELSE now() END, hide_reason = ${reason}::text, hidden_by = ${actor}
    WHERE r.id = ${id}::bigint
    RETURNING ${REVIEW_COLUMNS}`.execute(trx);
  return result.rows[0];
}

/**
 * Counts a review in (`delta` 1) or out (-1) of its business's, partner's and service's ratings, in
 * the review's transaction. In: one upsert of three rows, locked in (subject, id) order, the same
 * for every review, so two reviews at once wait for each other instead of deadlocking. Out: an
 * update of the three rows, which exist since the review was counted in (an upsert would check
 * its -1 against the non-negative counts before finding the row).
 */
export async function adjustRatings(trx: Trx, review: ReviewModel, delta: 1 | -1): Promise<void> {
  const column = sql.raw(`rating_${review.rating}`);
  if (delta === 1) {
    await sql`/* adjustRatings */
      INSERT INTO rating_aggregates AS a (subject, subject_id, business_id, ${column})
      VALUES ('business', ${review.businessId}::bigint, ${review.businessId}::bigint, 1),
             ('partner', ${review.partnerId}::bigint, ${review.businessId}::bigint, 1),
             ('service', ${review.serviceId}::bigint, ${review.businessId}::bigint, 1)
      ON CONFLICT (subject, subject_id) DO UPDATE SET ${column} = a.${column} + 1`.execute(trx);
    return;
  }
  const result = await sql`/* adjustRatings */
    UPDATE rating_aggregates a SET ${column} = a.${column} - 1
    WHERE (a.subject, a.subject_id) IN (('business', ${review.businessId}::bigint), ('partner', ${review.partnerId}::bigint), ('service', ${review.serviceId}::bigint))`.execute(trx);
  if (Number(result.numAffectedRows) !== 3) throw new Error(`Expected the three ratings review ${review.id} counts in, found ${result.numAffectedRows}: run npm run reviews:rebuild.`);
}

/** Every rating from the visible reviews, into an empty rating_aggregates (also what `seed:large` loads). */
export const RATINGS_FROM_REVIEWS = `
  INSERT INTO rating_aggregates (subject, subject_id, business_id, rating_1, rating_2, rating_3, rating_4, rating_5)
  SELECT s.subject, s.subject_id, min(r.business_id),
    count(*) FILTER (WHERE r.rating = 1), count(*) FILTER (WHERE r.rating = 2), count(*) FILTER (WHERE r.rating = 3),
    count(*) FILTER (WHERE r.rating = 4), count(*) FILTER (WHERE r.rating = 5)
  FROM reviews r
  CROSS JOIN LATERAL (VALUES ('business', r.business_id), ('partner', r.partner_id), ('service', r.service_id)) AS s(subject, subject_id)
  WHERE r.hidden_at IS NULL
  GROUP BY s.subject, s.subject_id`;

/**
 * Recomputes every rating from the visible reviews. Review writers are kept out meanwhile (SHARE
 * lock on reviews: it waits for the transactions writing reviews, whose aggregate updates commit
 * with them, and holds new ones back until this commits), so nothing is counted twice or lost.
 */
export async function rebuildAllRatings(trx: Trx): Promise<number> {
  await sql`/* rebuildAllRatings */ LOCK TABLE reviews IN SHARE MODE`.execute(trx);
  await sql`/* rebuildAllRatings */ DELETE FROM rating_aggregates`.execute(trx);
  const result = await sql`/* rebuildAllRatings */ ${sql.raw(RATINGS_FROM_REVIEWS)}`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}
