import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toGlobalId } from '../../src/shared/global-id.js';
import { mutateOk, startTestApi, type TestApi } from '../support/api.js';
import { uniqueSuffix } from '../support/builders.js';
import { REVIEW_CREATE, REVIEW_HIDE, REVIEW_REPLY, reviewScene, type ReviewScene } from '../reviews/review-scene.js';

const LOG = `query($slug: String!, $entity: AuditEntity, $entityId: ID, $actor: String, $from: DateTime, $to: DateTime, $first: Int, $after: String) {
  business(slug: $slug) { auditLog(entity: $entity, entityId: $entityId, actor: $actor, from: $from, to: $to, first: $first, after: $after) {
    nodes { id actor action entity entityId occurredAt changes } pageInfo { hasNextPage hasPreviousPage endCursor } } } }`;

const CUSTOMER_CREATE = `mutation($input: CustomerCreateInput!) { customerCreate(input: $input) { customer { id } userErrors { code } } }`;

describe('Business.auditLog: the trail, for owners and staff only', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  /** A business with a trail: a review created, replied to (staff) and hidden (owner), and a customer added by staff. */
  async function trail(city?: string) {
    const s = await reviewScene(api, { bookings: 1, city });
    const review = (await mutateOk(api, REVIEW_CREATE, { bookingId: s.bookings[0].gid, rating: 2, text: 'Late' }, s.bookings[0].token)).review;
    await mutateOk(api, REVIEW_REPLY, { reviewId: review.id, text: 'Sorry!' }, s.tokens.staff);
    const customer = (await mutateOk(api, CUSTOMER_CREATE, { businessId: s.business.gid, email: `audit-${uniqueSuffix()}@example.com`, name: 'Audited' }, s.tokens.staff)).customer;
    await mutateOk(api, REVIEW_HIDE, { reviewId: review.id, reason: 'Spam' }, s.tokens.owner);
    return { s, review, customer };
  }

  const log = async (s: ReviewScene, token: string | undefined, args: Record<string, unknown> = {}) => {
    const res = await api.gql(LOG, { slug: s.business.slug, ...args }, { token });
    expect(res.errors).toBeUndefined();
    return res.data.business.auditLog;
  };

  it('shows owners and staff who did what, when, with the changes, newest first', async () => {
    const { s, review, customer } = await trail();
    const owner = await log(s, s.tokens.owner);
    expect(owner.nodes.map((n: any) => [n.action, n.entity, n.entityId, n.actor])).toEqual([
      ['review.hidden', 'REVIEW', review.id, s.tokens.ownerActor],
      ['customer.created', 'CUSTOMER', customer.id, 'staff:staff-1'],
      ['review.replied', 'REVIEW', review.id, 'staff:staff-1'],
      ['review.created', 'REVIEW', review.id, `customer:customer-${s.bookings[0].customer.id}`],
    ]);
    expect(JSON.parse(owner.nodes[0].changes)).toEqual({ before: { hidden: false, hideReason: null }, after: { hidden: true, hideReason: 'Spam' } });
    expect(owner.nodes[0].occurredAt).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/);
    const times = owner.nodes.map((n: any) => n.occurredAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(owner.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
    expect(await log(s, s.tokens.staff)).toEqual(owner);
    expect(await log(s, s.tokens.admin)).toEqual(owner);
  });

  it('filters by kind, object, actor and time, and pages after a cursor', async () => {
    const { s, review, customer } = await trail();
    const actions = async (args: Record<string, unknown>) => (await log(s, s.tokens.staff, args)).nodes.map((n: any) => n.action);
    expect(await actions({ entity: 'CUSTOMER' })).toEqual(['customer.created']);
    expect(await actions({ entityId: review.id })).toEqual(['review.hidden', 'review.replied', 'review.created']);
    expect(await actions({ entity: 'REVIEW', entityId: review.id, actor: 'staff:staff-1' })).toEqual(['review.replied']);
    expect(await actions({ actor: 'staff:staff-1' })).toEqual(['customer.created', 'review.replied']);
    // An ID of another kind than `entity`, of a kind without entries, or no ID at all: nothing.
    expect(await actions({ entity: 'REVIEW', entityId: customer.id })).toEqual([]);
    expect(await actions({ entityId: toGlobalId('Slot', '1') })).toEqual([]);
    expect(await actions({ entityId: 'nonsense' })).toEqual([]);
    const all = (await log(s, s.tokens.staff)).nodes;
    expect(await actions({ from: all[2].occurredAt })).toEqual(all.slice(0, 3).map((n: any) => n.action));
    expect(await actions({ to: all[2].occurredAt })).toEqual(['review.created']);
    const seen: string[] = [];
    let after: string | null = null;
    for (let round = 0; round < 4; round++) {
      const page: any = await log(s, s.tokens.owner, { first: 1, after });
      seen.push(page.nodes[0].id);
      expect(page.pageInfo).toMatchObject({ hasNextPage: round < 3, hasPreviousPage: round > 0 });
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.map((n: any) => n.id));
    const bad = await api.gql(LOG, { slug: s.business.slug, after: 'bm9wZQ' }, { token: s.tokens.staff });
    expect(bad.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
  });

  it('gives partners, customers, anonymous callers and another business’s staff an empty page, like Business.customers', async () => {
    const { s } = await trail();
    const other = await reviewScene(api, { bookings: 1 });
    for (const token of [s.tokens.partner, s.bookings[0].token, undefined, other.tokens.staff, other.tokens.owner]) {
      expect(await log(s, token)).toEqual({ nodes: [], pageInfo: { hasNextPage: false, hasPreviousPage: false, endCursor: null } });
    }
    // Their own business's trail has none of the other's entries.
    const theirs = await log(other, other.tokens.owner);
    expect(theirs.nodes).toEqual([]);
  });

  it('reads the trails of a page of businesses in 2 statements, for 2 businesses as for 4', async () => {
    const city = `Auditville ${uniqueSuffix()}`;
    let admin = '';
    for (let b = 0; b < 4; b++) admin = (await trail(city)).s.tokens.admin;
    const page = (first: number) => `{ businesses(city: "${city}", first: ${first}) { nodes { auditLog(first: 3) { nodes { action actor changes } } } } }`;
    const two = await api.countStatements(() => api.gql(page(2), {}, { token: admin }));
    const four = await api.countStatements(() => api.gql(page(4), {}, { token: admin }));
    expect(four.result.data.businesses.nodes.map((b: any) => b.auditLog.nodes.length)).toEqual([3, 3, 3, 3]);
    expect([two.statements, four.statements]).toEqual([2, 2]);
  });
});
