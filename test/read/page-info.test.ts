import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { createBusiness, createService, uniqueSuffix, type BuiltBusiness } from '../support/builders.js';

/**
 * PageInfo of the forward keyset connections: both cursors are those of the page's own edges,
 * and a page reports items before it exactly when it was asked to continue after a cursor.
 * Business B has three services, A, B and C, listed by name.
 */
describe('Read API: PageInfo of forward keyset pages', () => {
  let api: TestApi;
  let business: BuiltBusiness;
  const SERVICES = `query($slug: String!, $first: Int, $after: String) {
    business(slug: $slug) { services(first: $first, after: $after) {
      edges { cursor node { name } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } }
  }`;

  beforeAll(async () => {
    api = await startTestApi();
    business = await createBusiness(api.db, { name: `PageInfo ${uniqueSuffix()}` });
    for (const name of ['A', 'B', 'C']) await createService(api.db, business, { name });
  });
  afterAll(() => api.close());

  async function page(first: number, after: string | null) {
    const res = await api.gql(SERVICES, { slug: business.slug, first, after });
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data.business.services as {
      edges: { cursor: string; node: { name: string } }[];
      pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
    };
  }

  it('gives a first page no previous page, and cursors of its first and last edges', async () => {
    const first = await page(2, null);
    expect(first.edges.map((e) => e.node.name)).toEqual(['A', 'B']);
    expect(first.pageInfo).toEqual({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0].cursor, endCursor: first.edges[1].cursor });
  });

  it('gives a page after a cursor a previous page, and a last page no next page', async () => {
    const first = await page(2, null);
    const second = await page(2, first.pageInfo.endCursor);
    expect(second.edges.map((e) => e.node.name)).toEqual(['C']);
    expect(second.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: second.edges[0].cursor, endCursor: second.edges[0].cursor });
  });

  it('gives an empty page after the last cursor null cursors, and still a previous page', async () => {
    const all = await page(3, null);
    const beyond = await page(3, all.pageInfo.endCursor);
    expect(beyond.edges).toEqual([]);
    expect(beyond.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true, startCursor: null, endCursor: null });
  });

  it('gives a top-level page the same PageInfo, and spends no statement on it', async () => {
    const city = `PageInfo-${uniqueSuffix()}`;
    for (const slug of ['pi-a', 'pi-b']) await createBusiness(api.db, { slug: `${slug}-${uniqueSuffix()}`, city });
    const query = (fields: string) => `query($city: String!, $after: String) { businesses(city: $city, first: 1, after: $after) { nodes { slug } ${fields} } }`;
    const bare = await api.countStatements(() => api.gql(query(''), { city }));
    const full = await api.countStatements(() => api.gql(query('pageInfo { hasNextPage hasPreviousPage startCursor endCursor }'), { city }));
    expect(full.statements).toBe(bare.statements);
    const info = full.result.data.businesses.pageInfo;
    expect(info).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(info.startCursor).toBe(info.endCursor);
    const next = await api.gql(query('pageInfo { hasNextPage hasPreviousPage }'), { city, after: info.endCursor });
    expect(next.data.businesses.pageInfo).toEqual({ hasNextPage: false, hasPreviousPage: true });
  });
});
