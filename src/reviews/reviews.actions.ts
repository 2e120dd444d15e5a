import type { ReviewCreateInput } from '../__generated__/resolvers-types.js';
import { customerIdIn, isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { findBookingsByIds } from '../bookings/bookings.repository.js';
import { intInRange, optionalText, requiredText } from '../shared/input-checks.js';
import { rawIdOf } from '../shared/global-id.js';
import type { AuditDraft, Step } from '../shared/mutation.js';
import type { Trx } from '../shared/transaction.js';
import { abort } from '../shared/user-errors.js';
import type { ReviewModel } from './review.model.js';
import { adjustRatings, insertReview, lockReviewById, updateReviewHidden, updateReviewReply } from './reviews.repository.js';

/** The longest review text and reply (the migration's CHECK says the same). */
export const MAX_REVIEW_TEXT_LENGTH = 2000;
/** The longest reason for hiding a review. */
export const MAX_HIDE_REASON_LENGTH = 500;

export interface ReviewDraft {
  bookingId: string;
  rating: number;
  text: string | null;
}

const BOOKING_FIELD = ['input', 'bookingId'];
const REVIEW_FIELD = ['input', 'reviewId'];

function bookingNotFound(gid: string): never {
  abort('NOT_FOUND', `Expected the ID of a booking of yours, got "${gid}".`, BOOKING_FIELD);
}

function reviewNotFound(gid: string): never {
  abort('NOT_FOUND', `Expected the ID of a review of a business you manage, got "${gid}".`, REVIEW_FIELD);
}

/** reviewCreate's input, checked before any statement. */
export function checkReviewCreate(input: ReviewCreateInput): ReviewDraft {
  const bookingId = rawIdOf(input.bookingId, 'Booking') ?? bookingNotFound(input.bookingId);
  return {
    bookingId,
    rating: intInRange(input.rating, ['input', 'rating'], 1, 5),
    text: optionalText(input.text, ['input', 'text'], MAX_REVIEW_TEXT_LENGTH),
  };
}

function reviewAudit(review: ReviewModel, action: string, changes: AuditDraft['changes']): AuditDraft {
  return { businessId: review.businessId, entity: 'review', entityId: review.id, action, changes };
}

/**
 * The customer's review of their completed booking, counted into the ratings in the same
 * transaction. Another customer's booking (or another business's) reads like a missing one.
 */
export async function createReview(trx: Trx, viewer: Viewer, gid: string, draft: ReviewDraft): Promise<Step<ReviewModel>> {
  const [booking] = await findBookingsByIds(trx, [draft.bookingId]);
  if (!booking || customerIdIn(viewer, booking.businessId) !== booking.customerId) bookingNotFound(gid);
  if (booking.status !== 'COMPLETED') {
    abort('BOOKING_NOT_COMPLETED', `Expected a completed booking to review, got a ${booking.status.toLowerCase().replace('_', '-')} one.`, BOOKING_FIELD);
  }
  const review = await insertReview(trx, { ...draft, businessId: booking.businessId, customerId: booking.customerId, partnerId: booking.partnerId, serviceId: booking.serviceId });
  if (!review) abort('ALREADY_REVIEWED', 'Expected a booking without a review, got one reviewed already: a booking is reviewed once.', BOOKING_FIELD);
  await adjustRatings(trx, review, 1);
  return { value: review, audit: [reviewAudit(review, 'review.created', { after: { bookingId: review.bookingId, rating: review.rating, text: review.text } })] };
}

/** Locks a review the viewer may manage (owners, staff of its business, admins); any other reads NOT_FOUND. */
async function lockManagedReview(trx: Trx, viewer: Viewer, gid: string): Promise<ReviewModel> {
  const id = rawIdOf(gid, 'Review') ?? reviewNotFound(gid);
  const review = await lockReviewById(trx, id);
  if (!review || !isStaffOf(viewer, review.businessId)) reviewNotFound(gid);
  return review;
}

export function checkReplyText(text: string): string {
  return requiredText(text, ['input', 'text'], MAX_REVIEW_TEXT_LENGTH);
}

export function checkHideReason(reason: string): string {
  return requiredText(reason, ['input', 'reason'], MAX_HIDE_REASON_LENGTH);
}

export async function replyToReview(trx: Trx, viewer: Viewer, actor: string, gid: string, text: string): Promise<Step<ReviewModel>> {
  const review = await lockManagedReview(trx, viewer, gid);
  if (review.reply !== null) abort('ALREADY_REPLIED', 'Expected a review without a reply, got one replied to already: the business replies once.', REVIEW_FIELD);
  const after = await updateReviewReply(trx, review.id, text, actor);
  return { value: after, audit: [reviewAudit(after, 'review.replied', { after: { reply: after.reply } })] };
}

/** Hides a visible review (`reason`) or shows a hidden one again (`reason` null), moving it out of or back into the ratings. */
export async function setReviewHidden(trx: Trx, viewer: Viewer, actor: string, gid: string, reason: string | null): Promise<Step<ReviewModel>> {
  const review = await lockManagedReview(trx, viewer, gid);
  const hiding = reason !== null;
  if ((review.hiddenAt !== null) === hiding) {
    abort('INVALID_TRANSITION', hiding ? 'Expected a visible review to hide, got a hidden one.' : 'Expected a hidden review to show again, got a visible one.', REVIEW_FIELD);
  }
  const after = await updateReviewHidden(trx, review.id, reason, actor);
  await adjustRatings(trx, after, hiding ? -1 : 1);
  const changes = { before: { hidden: !hiding, hideReason: review.hideReason }, after: { hidden: hiding, hideReason: after.hideReason } };
  return { value: after, audit: [reviewAudit(after, hiding ? 'review.hidden' : 'review.unhidden', changes)] };
}
