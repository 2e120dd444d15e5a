import type { Resolvers, ReviewHideInput, ReviewReplyInput, ReviewUnhideInput } from '../__generated__/resolvers-types.js';
import type { Viewer } from '../auth/viewer.js';
import { rememberById } from '../idempotency/idempotent-mutation.js';
import type { RequestContext } from '../server/context.js';
import { mutation, roles, type MutationDefinition } from '../shared/mutation.js';
import type { ReviewModel } from './review.model.js';
import { reviewById } from './reviews.loaders.js';
import { checkHideReason, checkReplyText, checkReviewCreate, createReview, replyToReview, setReviewHidden } from './reviews.actions.js';

const rememberReview = (context: RequestContext) => rememberById((id) => reviewById(context.loaders).load(id));
const reviewPayload = (review: ReviewModel | null) => ({ review });

/** What an `outside` step reads of its call: the input, typed. */
type WithInput<I> = { input: I };

/** A mutation of owners and staff (and admins) on a review; which business's, the step's read decides. */
function managing<I extends object, O>(name: string, verb: string, steps: Pick<MutationDefinition<I, Viewer, O, ReviewModel>, 'outside' | 'inside'>) {
  return mutation({ name, who: { expected: `an owner, staff or admin token to ${verb}`, scope: roles('ADMIN', 'STAFF') }, ...steps, remember: rememberReview, payload: reviewPayload });
}

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
    reviewReply: managing('reviewReply', 'reply to a review', {
      outside: async ({ input }: WithInput<ReviewReplyInput>) => checkReplyText(input.text),
      inside: (trx, { viewer, actor, input, prepared: text }) => replyToReview(trx, viewer, actor, input.reviewId, text),
    }),
    reviewHide: managing('reviewHide', 'hide a review', {
      outside: async ({ input }: WithInput<ReviewHideInput>) => checkHideReason(input.reason),
      inside: (trx, { viewer, actor, input, prepared: reason }) => setReviewHidden(trx, viewer, actor, input.reviewId, reason),
    }),
    reviewUnhide: managing('reviewUnhide', 'show a review again', {
      outside: async ({ input }: WithInput<ReviewUnhideInput>) => input.reviewId,
      inside: (trx, { viewer, actor, prepared: reviewId }) => setReviewHidden(trx, viewer, actor, reviewId, null),
    }),
  },
};
