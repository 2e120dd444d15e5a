import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { auditRows } from '../support/builders.js';
import { businessRatings, RATING, REVIEW_CREATE, REVIEW_HIDE, REVIEW_REPLY, REVIEW_UNHIDE, reviewScene, type ReviewScene } from './review-scene.js';

const rawId = (gid: string) => Buffer.from(gid, 'base64url').toString().split(':')[1];

async function reviewsRows(api: TestApi, businessId: string) {
  return api.db.selectFrom('reviews').select(['booking_id as bookingId', 'rating', 'body', 'reply', 'hide_reason as hideReason']).where('business_id', '=', businessId).orderBy('id').execute();
}

async function aggregates(api: TestApi, businessId: string) {
  return api.db.selectFrom('rating_aggregates').selectAll().where('business_id', '=', businessId).orderBy('subject').orderBy('subject_id').execute();
}

describe('Reviews: reviewCreate, reviewReply, reviewHide, reviewUnhide', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  const create = (s: ReviewScene, i: number, rating: number, text: string | null = null, key?: string) =>
    mutateOk(api, REVIEW_CREATE, { bookingId: s.bookings[i].gid, rating, text, ...(key ? { idempotencyKey: key } : {}) }, s.bookings[i].token);

  it('records a customer’s review of their completed booking, counts it in three ratings in its transaction, and audits it', async () => {
    const s = await reviewScene(api);
    const { result, statements } = await api.countStatements(() => create(s, 0, 4, '  Quick and friendly.  '));
    expect(result.review).toEqual({
      id: expect.any(String), rating: 4, text: 'Quick and friendly.', reply: null, hiddenAt: null,
      business: { id: s.business.gid }, partner: { id: s.partners[0].gid }, service: { id: s.services[0].gid }, booking: { id: s.bookings[0].gid },
    });
    // BEGIN, findBookingsByIds, insertReview, adjustRatings, audit, COMMIT; then the payload's
    // business, partner, service and booking.
    expect(statements).toBe(10);
    const res = await api.gql(businessRatings(s.business));
    const one = { average: 4, count: 1, distribution: [0, 0, 0, 1, 0] };
    expect(res.data.business).toEqual({ rating: one, partners: { nodes: [{ id: s.partners[0].gid, rating: one }] }, services: { nodes: [{ id: s.services[0].gid, rating: one }] } });
    expect(await auditRows(api.db, rawId(result.review.id), 'review')).toEqual([
      { businessId: s.business.id, entity: 'review', action: 'review.created', actor: `customer:customer-${s.bookings[0].customer.id}`, changes: { after: { bookingId: s.bookings[0].id, rating: 4, text: 'Quick and friendly.' } } },
    ]);
  });

  it('answers ALREADY_REVIEWED for a second review of a booking, also when several race, and counts one', async () => {
    const s = await reviewScene(api);
    await create(s, 0, 5);
    const again = await api.gql(REVIEW_CREATE, { input: { bookingId: s.bookings[0].gid, rating: 1 } }, { token: s.bookings[0].token });
    expect(again.data.reviewCreate).toEqual({
      review: null,
      userErrors: [{ field: ['input', 'bookingId'], code: 'ALREADY_REVIEWED', message: 'Expected a booking without a review, got one reviewed already: a booking is reviewed once.' }],
    });
    const race = await Promise.all([1, 2, 3, 4].map((rating) => api.gql(REVIEW_CREATE, { input: { bookingId: s.bookings[1].gid, rating } }, { token: s.bookings[1].token })));
    const codes = race.map((r) => r.data.reviewCreate.userErrors.map((e: { code: string }) => e.code).join() || 'created').sort();
    expect(codes).toEqual(['ALREADY_REVIEWED', 'ALREADY_REVIEWED', 'ALREADY_REVIEWED', 'created']);
    expect(await reviewsRows(api, s.business.id)).toHaveLength(2);
    const { data } = await api.gql(`{ business(slug: "${s.business.slug}") { ${RATING} } }`);
    expect(data.business.rating.count).toBe(2);
  });

  it('answers BOOKING_NOT_COMPLETED for a confirmed booking and NOT_FOUND, alike, for a booking of another customer or none, changing nothing', async () => {
    const s = await reviewScene(api);
    const other = await reviewScene(api);
    const before = await aggregates(api, s.business.id);
    const notCompleted = await api.gql(REVIEW_CREATE, { input: { bookingId: s.confirmed.gid, rating: 5 } }, { token: s.confirmed.token });
    expect(notCompleted.data.reviewCreate.userErrors).toEqual([{ field: ['input', 'bookingId'], code: 'BOOKING_NOT_COMPLETED', message: 'Expected a completed booking to review, got a confirmed one.' }]);
    const missing = toGlobalId('Booking', '9000000000');
    for (const [bookingId, token] of [[s.bookings[1].gid, s.bookings[0].token], [other.bookings[0].gid, s.bookings[0].token], [missing, s.bookings[0].token], ['not-an-id', s.bookings[0].token]]) {
      const res = await api.gql(REVIEW_CREATE, { input: { bookingId, rating: 5 } }, { token });
      expect(res.data.reviewCreate).toEqual({ review: null, userErrors: [{ field: ['input', 'bookingId'], code: 'NOT_FOUND', message: `Expected the ID of a booking of yours, got "${bookingId}".` }] });
    }
    expect(await reviewsRows(api, s.business.id)).toEqual([]);
    expect(await reviewsRows(api, other.business.id)).toEqual([]);
    expect(await aggregates(api, s.business.id)).toEqual(before);
  });

  it.each([
    ['a rating of 0', { rating: 0 }, ['input', 'rating'], 'Expected `rating` from 1 to 5, got 0.'],
    ['a rating of 6', { rating: 6 }, ['input', 'rating'], 'Expected `rating` from 1 to 5, got 6.'],
    ['a text of 2001 characters', { text: 'x'.repeat(2001) }, ['input', 'text'], 'Expected `text` to be at most 2000 characters long, got 2001.'],
  ])('answers INVALID_INPUT for %s before any statement', async (_label, overrides, field, message) => {
    const s = await reviewScene(api, { bookings: 1 });
    const { result, statements } = await api.countStatements(() => api.gql(REVIEW_CREATE, { input: { bookingId: s.bookings[0].gid, rating: 3, ...overrides } }, { token: s.bookings[0].token }));
    expect(result.data.reviewCreate).toEqual({ review: null, userErrors: [{ field, code: 'INVALID_INPUT', message }] });
    expect(statements).toBe(0);
  });

  it('refuses reviewCreate to staff and partners, and reviewReply / reviewHide to customers and partners, with FORBIDDEN; anonymous with UNAUTHENTICATED', async () => {
    const s = await reviewScene(api, { bookings: 1 });
    const review = (await create(s, 0, 2)).review;
    const cases: Array<[string, Record<string, unknown>, string | undefined, string]> = [
      [REVIEW_CREATE, { bookingId: s.bookings[0].gid, rating: 5 }, s.tokens.staff, 'FORBIDDEN'],
      [REVIEW_CREATE, { bookingId: s.bookings[0].gid, rating: 5 }, s.tokens.partner, 'FORBIDDEN'],
      [REVIEW_REPLY, { reviewId: review.id, text: 'Thanks' }, s.bookings[0].token, 'FORBIDDEN'],
      [REVIEW_REPLY, { reviewId: review.id, text: 'Thanks' }, s.tokens.partner, 'FORBIDDEN'],
      [REVIEW_HIDE, { reviewId: review.id, reason: 'Mine' }, s.bookings[0].token, 'FORBIDDEN'],
      [REVIEW_HIDE, { reviewId: review.id, reason: 'Mine' }, undefined, 'UNAUTHENTICATED'],
    ];
    for (const [operation, input, token, code] of cases) {
      const res = await api.gql(operation, { input }, { token });
      expect(res.errors?.map((e) => e.extensions?.code), `${operation.slice(0, 40)} ${code}`).toEqual([code]);
    }
    expect(await reviewsRows(api, s.business.id)).toEqual([{ bookingId: s.bookings[0].id, rating: 2, body: null, reply: null, hideReason: null }]);
  });

  it('lets the business reply once (owner or staff); staff of another business read NOT_FOUND', async () => {
    const s = await reviewScene(api, { bookings: 2 });
    const other = await reviewScene(api, { bookings: 1 });
    const [a, b] = [(await create(s, 0, 3)).review, (await create(s, 1, 5)).review];
    const foreign = await api.gql(REVIEW_REPLY, { input: { reviewId: a.id, text: 'Not ours' } }, { token: other.tokens.staff });
    expect(foreign.data.reviewReply.userErrors).toEqual([{ field: ['input', 'reviewId'], code: 'NOT_FOUND', message: `Expected the ID of a review of a business you manage, got "${a.id}".` }]);
    const replied = await mutateOk(api, REVIEW_REPLY, { reviewId: a.id, text: ' Sorry about the wait. ' }, s.tokens.staff);
    expect(replied.review).toEqual({ id: a.id, reply: 'Sorry about the wait.', repliedAt: expect.stringMatching(/Z$/) });
    const twice = await api.gql(REVIEW_REPLY, { input: { reviewId: a.id, text: 'Again' } }, { token: s.tokens.owner });
    expect(twice.data.reviewReply.userErrors).toEqual([{ field: ['input', 'reviewId'], code: 'ALREADY_REPLIED', message: 'Expected a review without a reply, got one replied to already: the business replies once.' }]);
    await mutateOk(api, REVIEW_REPLY, { reviewId: b.id, text: 'Thank you!' }, s.tokens.owner);
    const blank = await api.gql(REVIEW_REPLY, { input: { reviewId: b.id, text: '  ' } }, { token: s.tokens.owner });
    expect(blank.data.reviewReply.userErrors[0]).toMatchObject({ field: ['input', 'text'], code: 'INVALID_INPUT' });
    expect((await reviewsRows(api, s.business.id)).map((r) => r.reply)).toEqual(['Sorry about the wait.', 'Thank you!']);
    expect((await auditRows(api.db, rawId(a.id), 'review')).map((r) => [r.action, r.actor])).toEqual([
      ['review.created', `customer:customer-${s.bookings[0].customer.id}`],
      ['review.replied', 'staff:staff-1'],
    ]);
  });

  it('hides a review from the public and the ratings, keeps it with its reason for the team, and shows it again', async () => {
    const s = await reviewScene(api, { bookings: 2 });
    const [low, high] = [(await create(s, 0, 1, 'Rude!')).review, (await create(s, 1, 5)).review];
    const blank = await api.gql(REVIEW_HIDE, { input: { reviewId: low.id, reason: ' ' } }, { token: s.tokens.staff });
    expect(blank.data.reviewHide.userErrors).toEqual([{ field: ['input', 'reason'], code: 'INVALID_INPUT', message: 'Expected `reason` to be 1 to 500 characters long, got 0.' }]);
    const hidden = await mutateOk(api, REVIEW_HIDE, { reviewId: low.id, reason: 'Abusive language' }, s.tokens.owner);
    expect(hidden.review).toEqual({ id: low.id, hiddenAt: expect.stringMatching(/Z$/), hideReason: 'Abusive language' });
    const twice = await api.gql(REVIEW_HIDE, { input: { reviewId: low.id, reason: 'Again' } }, { token: s.tokens.staff });
    expect(twice.data.reviewHide.userErrors).toEqual([{ field: ['input', 'reviewId'], code: 'INVALID_TRANSITION', message: 'Expected a visible review to hide, got a hidden one.' }]);

    const list = `query($id: ID!) { node(id: $id) { id } business(slug: "${s.business.slug}") { ${RATING} reviews { nodes { id hiddenAt hideReason } } } }`;
    const publicView = await api.gql(list, { id: low.id });
    expect(publicView.data).toEqual({ node: null, business: { rating: { average: 5, count: 1, distribution: [0, 0, 0, 0, 1] }, reviews: { nodes: [{ id: high.id, hiddenAt: null, hideReason: null }] } } });
    // The customer who wrote it, the partner, and staff of another business do not see it either.
    const otherStaff = (await reviewScene(api, { bookings: 1 })).tokens.staff;
    for (const token of [s.bookings[0].token, s.tokens.partner, otherStaff]) expect((await api.gql(list, { id: low.id }, { token })).data).toEqual(publicView.data);
    const team = await api.gql(list, { id: low.id }, { token: s.tokens.staff });
    expect(team.data.node).toEqual({ id: low.id });
    expect(team.data.business.reviews.nodes).toEqual([
      { id: high.id, hiddenAt: null, hideReason: null },
      { id: low.id, hiddenAt: hidden.review.hiddenAt, hideReason: 'Abusive language' },
    ]);
    expect(team.data.business.rating.count).toBe(1);

    const shown = await mutateOk(api, REVIEW_UNHIDE, { reviewId: low.id }, s.tokens.staff);
    expect(shown.review).toEqual({ id: low.id, hiddenAt: null, hideReason: null });
    const after = await api.gql(list, { id: low.id });
    expect(after.data.business.rating).toEqual({ average: 3, count: 2, distribution: [1, 0, 0, 0, 1] });
    const unhideAgain = await api.gql(REVIEW_UNHIDE, { input: { reviewId: low.id } }, { token: s.tokens.staff });
    expect(unhideAgain.data.reviewUnhide.userErrors[0]).toMatchObject({ code: 'INVALID_TRANSITION', message: 'Expected a hidden review to show again, got a visible one.' });
    expect((await auditRows(api.db, rawId(low.id), 'review')).map((r) => [r.action, r.changes])).toEqual([
      ['review.created', { after: { bookingId: s.bookings[0].id, rating: 1, text: 'Rude!' } }],
      ['review.hidden', { before: { hidden: false, hideReason: null }, after: { hidden: true, hideReason: 'Abusive language' } }],
      ['review.unhidden', { before: { hidden: true, hideReason: 'Abusive language' }, after: { hidden: false, hideReason: null } }],
    ]);
  });

  it('returns the first review for a retry with the same idempotency key, writing it once', async () => {
    const s = await reviewScene(api, { bookings: 1 });
    const first = await create(s, 0, 4, 'Good', 'review-key-1');
    const retry = await create(s, 0, 4, 'Good', 'review-key-1');
    expect(retry.review.id).toBe(first.review.id);
    expect(await reviewsRows(api, s.business.id)).toHaveLength(1);
    expect(await auditRows(api.db, rawId(first.review.id), 'review')).toHaveLength(1);
  });

  it('pages reviews newest first on the business, each partner and each service, continuing after a cursor', async () => {
    const s = await reviewScene(api, { bookings: 5, partners: 2, services: 2 });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create(s, i, 1 + i)).review.id);
    const newestFirst = [...ids].reverse();
    const page = (field: string, after: string | null) => `{ business(slug: "${s.business.slug}") { ${field}(first: 2${after ? `, after: "${after}"` : ''}) { nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let round = 0; round < 3; round++) {
      const res: { data?: any } = await api.gql(page("reviews", after));
      const conn: any = res.data.business.reviews;
      seen.push(...conn.nodes.map((n: { id: string }) => n.id));
      expect(conn.pageInfo.hasNextPage).toBe(round < 2);
      expect(conn.pageInfo.hasPreviousPage).toBe(round > 0);
      after = conn.pageInfo.endCursor;
    }
    expect(seen).toEqual(newestFirst);
    const nested = await api.gql(`{ business(slug: "${s.business.slug}") {
      partners { nodes { id reviews { nodes { id rating } } } } services { nodes { id reviews(first: 1) { nodes { rating } pageInfo { hasNextPage } } } } } }`);
    const byPartner = Object.fromEntries(nested.data.business.partners.nodes.map((p: any) => [p.id, p.reviews.nodes.map((r: any) => r.rating)]));
    expect(byPartner).toEqual({ [s.partners[0].gid]: [5, 3, 1], [s.partners[1].gid]: [4, 2] });
    const byService = Object.fromEntries(nested.data.business.services.nodes.map((x: any) => [x.id, x.reviews]));
    expect(byService).toEqual({
      [s.services[0].gid]: { nodes: [{ rating: 5 }], pageInfo: { hasNextPage: true } },
      [s.services[1].gid]: { nodes: [{ rating: 4 }], pageInfo: { hasNextPage: true } },
    });
    const bad = await api.gql(page('reviews', 'bm9wZQ'));
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});
