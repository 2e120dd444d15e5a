import { isStaffOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { toPage, type Page } from '../shared/connection.js';
import { argsKey, inKeyOrder, type LoaderRegistry } from '../shared/loader-registry.js';
import { NO_RATING, type RatingModel, type RatingSubject, type ReviewModel } from './review.model.js';
import {
  findRatingsBySubjects,
  findReviewPagesByBusinessIds,
  findReviewPagesByPartnerIds,
  findReviewPagesByServiceIds,
  findReviewsByIds,
  type HiddenReviews,
} from './reviews.repository.js';

/** The hidden reviews a viewer may read: all for an admin, their businesses' for owners and staff, none for anybody else. */
export function hiddenReviewsFor(viewer: Viewer): HiddenReviews {
  if (viewer.admin) return 'all';
  return viewer.memberships.filter((m) => m.role === 'OWNER' || m.role === 'STAFF').map((m) => m.businessId);
}

/** A review reads as missing when it is hidden and the viewer is not on its business's team. */
export function canSeeReview(viewer: Viewer, review: ReviewModel): boolean {
  return review.hiddenAt === null || isStaffOf(viewer, review.businessId);
}

export function reviewById(loaders: LoaderRegistry) {
  return loaders.get<string, ReviewModel | null>('ReviewById', async (ids) =>
    inKeyOrder(ids, await findReviewsByIds(await loaders.read(), ids), (r) => canSeeReview(loaders.viewer, r)),
  );
}

type PageQuery = typeof findReviewPagesByBusinessIds;

function reviewPages(loaders: LoaderRegistry, name: string, find: PageQuery, after: [string, string] | null, size: number) {
  return loaders.get<string, Page<ReviewModel>>(`${name}:${argsKey(after)}:${size}`, async (parentIds) => {
    const pages = await find(await loaders.read(), parentIds, { after, hidden: hiddenReviewsFor(loaders.viewer), limit: size + 1 });
    const byId = reviewById(loaders);
    return parentIds.map((id) => {
      const rows = pages.get(id) ?? [];
      for (const row of rows) byId.prime(row.id, row);
      return toPage(rows, size, (r) => [r.createdAt, r.id], after);
    });
  });
}

export function reviewPagesByBusinessId(loaders: LoaderRegistry, after: [string, string] | null, size: number) {
  return reviewPages(loaders, 'ReviewPagesByBusinessId', findReviewPagesByBusinessIds, after, size);
}

export function reviewPagesByPartnerId(loaders: LoaderRegistry, after: [string, string] | null, size: number) {
  return reviewPages(loaders, 'ReviewPagesByPartnerId', findReviewPagesByPartnerIds, after, size);
}

export function reviewPagesByServiceId(loaders: LoaderRegistry, after: [string, string] | null, size: number) {
  return reviewPages(loaders, 'ReviewPagesByServiceId', findReviewPagesByServiceIds, after, size);
}

/** Ratings of businesses, partners and services together, keyed `subject:id`: one statement for a whole page of each. */
export function ratingBySubject(loaders: LoaderRegistry) {
  return loaders.get<string, RatingModel>('RatingBySubject', async (keys) => {
    const parsed = keys.map((key) => {
      const [subject, subjectId] = key.split(':') as [RatingSubject, string];
      return { subject, subjectId };
    });
    const rows = await findRatingsBySubjects(await loaders.read(), parsed);
    const byKey = new Map(rows.map((row) => [`${row.subject}:${row.subjectId}`, { distribution: row.distribution.map(Number) as RatingModel['distribution'] }]));
    return keys.map((key) => byKey.get(key) ?? NO_RATING);
  });
}
