import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggedErrors, startTestApi, type TestApi } from '../support/api.js';
import { createBusiness, createService, uniqueSuffix, type BuiltBusiness, type BuiltService } from '../support/builders.js';

/**
 * A non-null reference whose row is gone (here: a business soft-deleted while its services were
 * left behind) is a bug on our side: the field fails as a masked INTERNAL_SERVER_ERROR whose log
 * line names the reference, instead of an anonymous non-null violation.
 */
describe('Read API: a broken reference is logged by name and masked', () => {
  let api: TestApi;
  let business: BuiltBusiness;
  let services: BuiltService[];
  const SERVICE = `query($id: ID!) { node(id: $id) { ... on Service { name business { id } } } }`;

  beforeAll(async () => {
    api = await startTestApi();
    business = await createBusiness(api.db, { name: `Orphans ${uniqueSuffix()}` });
    services = [await createService(api.db, business, { name: 'A' }), await createService(api.db, business, { name: 'B' })];
  });
  afterAll(() => api.close());

  it('resolves the reference while its row exists', async () => {
    const res = await api.gql(SERVICE, { id: services[0].gid });
    expect(res.errors).toBeUndefined();
    expect(res.data.node).toEqual({ name: 'A', business: { id: business.gid } });
  });

  it('answers INTERNAL_SERVER_ERROR at the field, and logs which reference broke', async () => {
    await sql`UPDATE businesses SET deleted_at = now() WHERE id = ${business.id}::bigint`.execute(api.db);
    const before = loggedErrors.length;
    const res = await api.gql(SERVICE, { id: services[0].gid });
    expect(res.data).toEqual({ node: null });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].message).toBe('Internal server error.');
    expect(res.errors![0].path).toEqual(['node', 'business']);
    expect(res.errors![0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(res)).not.toMatch(/Service\.business|load row|missing or hidden/);
    const logged = loggedErrors.slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0].context?.message).toBe(`Expected Service.business of Service ${services[0].id} to load row ${business.id}, got null: the row is missing or hidden from this caller.`);
    expect(logged[0].context?.path).toEqual(['node', 'business']);
  });

  it('still loads the references of many parents in one statement', async () => {
    const query = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Service { business { id } } } }`;
    const one = await api.countStatements(() => api.gql(query, { ids: [services[0].gid] }));
    const two = await api.countStatements(() => api.gql(query, { ids: services.map((s) => s.gid) }));
    expect(two.statements).toBe(one.statements);
    expect(two.result.errors?.map((e) => e.path)).toEqual([['nodes', 0, 'business'], ['nodes', 1, 'business']]);
  });
});
