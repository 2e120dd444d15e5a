import type { Resolvers } from '../__generated__/resolvers-types.js';
import { isStaffOf } from '../auth/access.js';
import { bookingById } from '../bookings/bookings.loaders.js';
import { businessById } from '../businesses/businesses.loaders.js';
import { partnerById } from '../partners/partners.loaders.js';
import { serviceById } from '../services/services.loaders.js';
import { checkPageSize, decodeCursor } from '../shared/connection.js';
import { connectionResolvers } from '../shared/connection-resolvers.js';
import { toGlobalId } from '../shared/global-id.js';
import type { LoaderRegistry } from '../shared/loader-registry.js';
import { referenced } from '../shared/referenced.js';
import type { RatingModel } from './review.model.js';
import { ratingBySubject, reviewPagesByBusinessId, reviewPagesByPartnerId, reviewPagesByServiceId } from './reviews.loaders.js';

const TIME_ID = ['time', 'id'] as const;

type PageLoader = typeof reviewPagesByBusinessId;

/** A `reviews(first, after)` field of any parent: newest first, 20 by default. */
function reviewsField(pages: PageLoader) {
  return (parent: { id: string }, args: { first?: number | null; after?: string | null }, { loaders }: { loaders: LoaderRegistry }) => {
    const size = checkPageSize(args.first, 20);
    const after = decodeCursor(args.after, TIME_ID) as [string, string] | null;
    return pages(loaders, after, size).load(parent.id);
  };
}

export const reviewResolvers: Resolvers = {
  Business: {
    rating: (business, _, { loaders }) => ratingBySubject(loaders).load(`business:${business.id}`),
    reviews: reviewsField(reviewPagesByBusinessId),
  },
  Partner: {
    rating: (partner, _, { loaders }) => ratingBySubject(loaders).load(`partner:${partner.id}`),
    reviews: reviewsField(reviewPagesByPartnerId),
  },
  Service: {
    rating: (service, _, { loaders }) => ratingBySubject(loaders).load(`service:${service.id}`),
    reviews: reviewsField(reviewPagesByServiceId),
  },
  Review: {
    id: (review) => toGlobalId('Review', review.id),
    business: (review, _, { loaders }) => referenced(businessById(loaders), review.businessId, 'Review.business', review.id),
    partner: (review, _, { loaders }) => referenced(partnerById(loaders), review.partnerId, 'Review.partner', review.id),
    service: (review, _, { loaders }) => referenced(serviceById(loaders), review.serviceId, 'Review.service', review.id),
    booking: (review, _, { loaders }) => bookingById(loaders).load(review.bookingId),
    hiddenAt: (review, _, { viewer }) => (isStaffOf(viewer, review.businessId) ? review.hiddenAt : null),
    hideReason: (review, _, { viewer }) => (isStaffOf(viewer, review.businessId) ? review.hideReason : null),
  },
  Rating: {
    count: (rating) => total(rating),
    average: (rating) => {
      const count = total(rating);
      if (count === 0) return null;
      const sum = rating.distribution.reduce((acc, n, i) => acc + n * (i + 1), 0);
      return Math.round((sum / count) * 100) / 100;
    },
    distribution: (rating) => rating.distribution,
  },
  ReviewConnection: connectionResolvers,
};

function total(rating: RatingModel): number {
  return rating.distribution.reduce((acc, n) => acc + n, 0);
}
