import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CACHE_CONFIG } from '../../src/cache/create-cache.js';
import { loggedErrors, startTestApi, type TestApi } from '../support/api.js';
import { createBusiness, createCustomer, uniqueSuffix, type BuiltBusiness, type BuiltCustomer } from '../support/builders.js';

/**
 * A non-null reference whose row is gone (here: a business row deleted behind its foreign keys'
 * back, as a bad manual repair would, leaving its customers behind; an archived business still
 * loads) is a bug on our side: the field fails as a masked INTERNAL_SERVER_ERROR whose log
 * line names the reference, instead of an anonymous non-null violation.
 */
describe('Read API: a broken reference is logged by name and masked', () => {
  let api: TestApi;
  let business: BuiltBusiness;
  let customers: BuiltCustomer[];
  let admin: string;
  const CUSTOMER = `query($id: ID!) { node(id: $id) { ... on Customer { name business { id } } } }`;

  beforeAll(async () => {
    // The references are broken by hand in SQL, which the catalog cache would not see until its TTL.
    api = await startTestApi({ config: { cache: { ...DEFAULT_CACHE_CONFIG, catalogTtlSeconds: 0 } } });
    business = await createBusiness(api.db, { name: `Orphans ${uniqueSuffix()}` });
    customers = [await createCustomer(api.db, business, { name: 'A' }), await createCustomer(api.db, business, { name: 'B' })];
    admin = await api.token({ sub: 'admin-1', role: 'admin' });
  });
  afterAll(() => api.close());

  it('resolves the reference while its row exists', async () => {
    const res = await api.gql(CUSTOMER, { id: customers[0].gid }, { token: admin });
    expect(res.errors).toBeUndefined();
    expect(res.data.node).toEqual({ name: 'A', business: { id: business.gid } });
  });

  it('answers INTERNAL_SERVER_ERROR at the field, and logs which reference broke', async () => {
    // Foreign keys are triggers: a replica session skips them, so the customers are left pointing at nothing.
    await api.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(trx);
      await sql`DELETE FROM businesses WHERE id = ${business.id}::bigint`.execute(trx);
    });
    const before = loggedErrors.length;
    const res = await api.gql(CUSTOMER, { id: customers[0].gid }, { token: admin });
    expect(res.data).toEqual({ node: null });
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0].message).toBe('Internal server error.');
    expect(res.errors![0].path).toEqual(['node', 'business']);
    expect(res.errors![0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(res)).not.toMatch(/Customer\.business|load row|missing or hidden/);
    const logged = loggedErrors.slice(before);
    expect(logged).toHaveLength(1);
    expect(logged[0].context?.message).toBe(`Expected Customer.business of Customer ${customers[0].id} to load row ${business.id}, got null: the row is missing or hidden from this caller.`);
    expect(logged[0].context?.path).toEqual(['node', 'business']);
  });

  it('still loads the references of many parents in one statement', async () => {
    const query = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Customer { business { id } } } }`;
    const one = await api.countStatements(() => api.gql(query, { ids: [customers[0].gid] }, { token: admin }));
    const two = await api.countStatements(() => api.gql(query, { ids: customers.map((c) => c.gid) }, { token: admin }));
    expect(two.statements).toBe(one.statements);
    expect(two.result.errors?.map((e) => e.path)).toEqual([['nodes', 0, 'business'], ['nodes', 1, 'business']]);
  });
});
