import type { Resolvers } from '../__generated__/resolvers-types.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, roles } from '../shared/mutation.js';
import type { ReviewModel } from './review.model.js';
import { reviewById } from './reviews.loaders.js';
import { checkHideReason, checkReplyText, checkReviewCreate, createReview, replyToReview, setReviewHidden } from './reviews.actions.js';

const rememberReview = (context: RequestContext) => rememberById((id) => reviewById(context.loaders).load(id));
const reviewPayload = (review: ReviewModel | null) => ({ review });
/** Owners and staff (and admins) manage reviews; which business's, the step's read decides. */
const managers = roles('ADMIN', 'STAFF');

export const reviewMutations: Resolvers = {
  Mutation: {
    reviewCreate: mutation({
      name: 'reviewCreate',
      who: { expected: 'the customer token of the booking to review it', scope: roles('CUSTOMER') },
      outside: async ({ input }) => checkReviewCreate(input),
      inside: (trx, { viewer, input, prepared }) => createReview(trx, viewer, input.bookingId, prepared),
      remember: rememberReview,
      payload: reviewPayload,
    }),
    reviewReply: mutation({
      name: 'reviewReply',
      who: { expected: 'an owner, staff or admin token to reply to a review', scope: managers },
      outside: async ({ input }) => checkReplyText(input.text),
      inside: (trx, { viewer, actor, input, prepared: text }) => replyToReview(trx, viewer, actor, input.reviewId, text),
      remember: rememberReview,
      payload: reviewPayload,
    }),
    reviewHide: mutation({
      name: 'reviewHide',
      who: { expected: 'an owner, staff or admin token to hide a review', scope: managers },
      outside: async ({ input }) => checkHideReason(input.reason),
      inside: (trx, { viewer, actor, input, prepared: reason }) => setReviewHidden(trx, viewer, actor, input.reviewId, reason),
      remember: rememberReview,
      payload: reviewPayload,
    }),
    reviewUnhide: mutation({
      name: 'reviewUnhide',
      who: { expected: 'an owner, staff or admin token to show a review again', scope: managers },
      inside: (trx, { viewer, actor, input }) => setReviewHidden(trx, viewer, actor, input.reviewId, null),
      remember: rememberReview,
      payload: reviewPayload,
    }),
  },
};
