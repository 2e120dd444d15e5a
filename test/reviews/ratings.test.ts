import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildRatings } from '../../src/reviews/rating-rebuild.js';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { uniqueSuffix } from '../support/builders.js';
import { RATING, REVIEW_CREATE, REVIEW_HIDE, REVIEW_UNHIDE, reviewScene } from './review-scene.js';

/** The ratings of a business, its partners and services as stored (rows whose counts are all zero read like none). */
async function storedRatings(api: TestApi, businessId: string) {
  const rows = await api.db.selectFrom('rating_aggregates').selectAll().where('business_id', '=', businessId).orderBy('subject').orderBy('subject_id').execute();
  return rows
    .map((r) => ({ subject: r.subject, id: String(r.subject_id), counts: [r.rating_1, r.rating_2, r.rating_3, r.rating_4, r.rating_5] }))
    .filter((r) => r.counts.some((n) => n > 0));
}

describe('Ratings: kept in step by the review mutations, equal to a rebuild, read in batches', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('equals a rebuild from the reviews after generated reviews, hides and unhides, and equals the counts of the visible reviews', async () => {
    const s = await reviewScene(api, { bookings: 18, partners: 3, services: 2 });
    // A fixed pseudo-random sequence: every rating occurs, some reviews are hidden, some shown again.
    const ratings = s.bookings.map((_, i) => 1 + ((i * 7 + 3) % 5));
    const ids: string[] = [];
    for (const [i, booking] of s.bookings.entries()) {
      ids.push((await mutateOk(api, REVIEW_CREATE, { bookingId: booking.gid, rating: ratings[i] }, booking.token)).review.id);
    }
    const hidden = new Set([1, 4, 5, 9, 12, 17]);
    for (const i of hidden) await mutateOk(api, REVIEW_HIDE, { reviewId: ids[i], reason: `Generated hide ${i}` }, s.tokens.staff);
    for (const i of [4, 12]) {
      await mutateOk(api, REVIEW_UNHIDE, { reviewId: ids[i] }, s.tokens.staff);
      hidden.delete(i);
    }
    const incremental = await storedRatings(api, s.business.id);

    // What the visible reviews say, counted here.
    const expected = new Map<string, number[]>();
    const count = (key: string, rating: number) => {
      const counts = expected.get(key) ?? [0, 0, 0, 0, 0];
      counts[rating - 1]++;
      expected.set(key, counts);
    };
    s.bookings.forEach((b, i) => {
      if (hidden.has(i)) return;
      count(`business:${s.business.id}`, ratings[i]);
      count(`partner:${b.partner.id}`, ratings[i]);
      count(`service:${b.service.id}`, ratings[i]);
    });
    expect(Object.fromEntries(incremental.map((r) => [`${r.subject}:${r.id}`, r.counts]))).toEqual(Object.fromEntries(expected));

    const written = await rebuildRatings(api.db);
    expect(written).toBeGreaterThanOrEqual(6);
    expect(await storedRatings(api, s.business.id)).toEqual(incremental);
    // And the API reads the same after the rebuild.
    const { data } = await api.gql(`{ business(slug: "${s.business.slug}") { ${RATING} } }`);
    const visible = ratings.filter((_, i) => !hidden.has(i));
    expect(data.business.rating).toEqual({
      count: visible.length,
      average: Math.round((visible.reduce((a, b) => a + b, 0) / visible.length) * 100) / 100,
      distribution: expected.get(`business:${s.business.id}`),
    });
  });

  it('loses no count when reviews of one business are written and hidden at once, and still equals a rebuild', async () => {
    const s = await reviewScene(api, { bookings: 10, partners: 2, services: 2 });
    const created = await Promise.all(s.bookings.map((b, i) => mutateOk(api, REVIEW_CREATE, { bookingId: b.gid, rating: 1 + (i % 5) }, b.token)));
    await Promise.all(created.slice(0, 4).map((c, i) => mutateOk(api, REVIEW_HIDE, { reviewId: c.review.id, reason: `Race ${i}` }, s.tokens.staff)));
    const incremental = await storedRatings(api, s.business.id);
    expect(incremental.find((r) => r.subject === 'business')?.counts.reduce((a, b) => a + b, 0)).toBe(6);
    await rebuildRatings(api.db);
    expect(await storedRatings(api, s.business.id)).toEqual(incremental);
  });

  it('reads a page of businesses with their ratings, reviews, partners’ and services’ ratings in statements that do not grow with the page', async () => {
    const city = `Ratingville ${uniqueSuffix()}`;
    for (let b = 0; b < 4; b++) {
      const s = await reviewScene(api, { bookings: 3, partners: 2, services: 2, city });
      for (const booking of s.bookings) await mutateOk(api, REVIEW_CREATE, { bookingId: booking.gid, rating: 4 }, booking.token);
    }
    // Each parent type apart: batches of different branches may or may not meet in one tick on
    // PostgreSQL, while each of these counts is exact on both databases.
    const shapes: Array<[string, number]> = [
      // businesses, RatingBySubject, ReviewPagesByBusinessId
      [`${RATING} reviews(first: 2) { nodes { rating text } pageInfo { hasNextPage } }`, 3],
      // businesses, Business.partners, RatingBySubject, ReviewPagesByPartnerId
      ['partners { nodes { rating { count } reviews(first: 2) { nodes { id } } } }', 4],
      // businesses, Business.services, RatingBySubject, ReviewPagesByServiceId
      ['services { nodes { rating { average } reviews(first: 1) { nodes { id } } } }', 4],
    ];
    for (const [selection, expected] of shapes) {
      const page = (first: number) => `{ businesses(city: "${city}", first: ${first}) { nodes { ${selection} } } }`;
      const small = await api.countStatements(() => api.gql(page(2)));
      const large = await api.countStatements(() => api.gql(page(4)));
      expect(small.result.errors).toBeUndefined();
      expect(large.result.data.businesses.nodes).toHaveLength(4);
      expect([small.statements, large.statements], selection).toEqual([expected, expected]);
    }
    const { data } = await api.gql(`{ businesses(city: "${city}", first: 4) { nodes { ${RATING} reviews(first: 2) { nodes { rating } } } } }`);
    expect(data.businesses.nodes[0].rating).toEqual({ average: 4, count: 3, distribution: [0, 0, 0, 3, 0] });
    expect(data.businesses.nodes[0].reviews.nodes).toEqual([{ rating: 4 }, { rating: 4 }]);
  });
});
