import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../support/api.js';
import { createBookableBusiness } from '../support/builders.js';

describe('Read API: a business and its catalog', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi();
  });
  afterAll(() => api.close());

  it('finds a business by slug with its services and partners', async () => {
    const { business, service, partners } = await createBookableBusiness(api.db, { partners: 2 });
    const res = await api.gql(`query($slug: String!) { business(slug: $slug) { id slug services { totalCount nodes { id durationMinutes currency } } partners { totalCount edges { cursor node { id name } } } } }`, { slug: business.slug });
    expect(res.errors).toBeUndefined();
    expect(res.data.business.id).toBe(business.gid);
    expect(res.data.business.services.nodes).toEqual([{ id: service.gid, durationMinutes: 30, currency: 'EUR' }]);
    expect(res.data.business.partners.totalCount).toBe(2);
    expect(res.data.business.partners.edges.map((e: any) => e.node.id).sort()).toEqual(partners.map((p) => p.gid).sort());
  });
});
