import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBusinessPage, type BusinessPageArgs } from '../../src/businesses/businesses.repository.js';
import { connectDatabase, type DatabaseHandle } from '../../src/db/connect.js';
import { startTestApi, type GraphQLResponse, type TestApi } from '../support/api.js';
import { createBusiness, createService, uniqueSuffix, type BuiltBusiness } from '../support/builders.js';

/**
 * businesses(city, query, serviceQuery, first, after): the catalog search of frontends. Every
 * business here is in a city of this file alone (the PostgreSQL database is shared by test files),
 * and names carry a marker of this run, so that a search finds exactly what the test made.
 */
const SEARCH = `query Search($city: String, $query: String, $serviceQuery: String, $first: Int, $after: String) {
  businesses(city: $city, query: $query, serviceQuery: $serviceQuery, first: $first, after: $after) {
    nodes { slug name } pageInfo { hasNextPage endCursor }
  }
}`;

describe('Query.businesses: catalog search by name and by service name', () => {
  let api: TestApi;
  const marker = uniqueSuffix().replace(/[0-9]/g, 'x');
  const city = `Searchville ${uniqueSuffix()}`;
  const otherCity = `Elsewhere ${uniqueSuffix()}`;
  const made: Record<string, BuiltBusiness> = {};

  async function business(key: string, name: string, options: { city?: string; archived?: boolean } = {}) {
    made[key] = await createBusiness(api.db, { name, city: options.city ?? city, slug: `search-${key}-${uniqueSuffix()}` });
    if (options.archived) await sql`UPDATE businesses SET deleted_at = now() WHERE id = ${made[key].id}::bigint`.execute(api.db);
    return made[key];
  }

  beforeAll(async () => {
    api = await startTestApi();
    await business('creme', `Le Café Crème ${marker}`);
    await business('upper', `CAFE NOIR ${marker}`);
    await business('decomposed', `Cafe\u0301 Decomposé ${marker}`);
    await business('tea', `Tea House ${marker}`);
    await business('away', `Café Away ${marker}`, { city: otherCity });
    await business('archived', `Café Archived ${marker}`, { archived: true });
    await business('percent', `100% Cafe ${marker}`);
    const zurich = await business('zurich', `Ärzte Zürich ${marker}`);
    await createService(api.db, made.tea, { name: `Coupe Brushing ${marker}` });
    await createService(api.db, made.creme, { name: `Shampoing ${marker}`, isActive: false });
    await createService(api.db, zurich, { name: `Médecine générale ${marker}` });
    await createService(api.db, made.archived, { name: `Coupe Archivée ${marker}` });
  });
  afterAll(() => api.close());

  async function slugsFor(variables: Record<string, unknown>) {
    const res = await api.gql(SEARCH, { city, first: 50, ...variables });
    expect(res.errors).toBeUndefined();
    return (res.data.businesses.nodes as Array<{ slug: string }>).map((n) => n.slug);
  }
  const slugs = (...keys: string[]) => keys.map((k) => made[k].slug).sort();

  it('matches a business name anywhere in it, ignoring case and accents on both sides', async () => {
    expect(await slugsFor({ query: 'café' })).toEqual(slugs('creme', 'upper', 'decomposed', 'percent'));
    expect(await slugsFor({ query: 'CAFE' })).toEqual(slugs('creme', 'upper', 'decomposed', 'percent'));
    expect(await slugsFor({ query: 'creme' })).toEqual(slugs('creme'));
    expect(await slugsFor({ query: 'arzte zur' })).toEqual(slugs('zurich'));
    expect(await slugsFor({ query: 'DÉCOMPOSE' })).toEqual(slugs('decomposed'));
  });

  it('matches a decomposed accent in the query as the composed one', async () => {
    expect(await slugsFor({ query: 'Cre\u0300me' })).toEqual(slugs('creme'));
  });

  it('takes LIKE wildcards in the query literally', async () => {
    expect(await slugsFor({ query: '100%' })).toEqual(slugs('percent'));
    expect(await slugsFor({ query: '%' })).toEqual(slugs('percent'));
    expect(await slugsFor({ query: 'caf_' })).toEqual([]);
  });

  it('finds businesses by the names of their bookable services only', async () => {
    expect(await slugsFor({ serviceQuery: 'coupe' })).toEqual(slugs('tea'));
    expect(await slugsFor({ serviceQuery: 'MEDECINE GEN' })).toEqual(slugs('zurich'));
    // Inactive: not bookable, not found.
    expect(await slugsFor({ serviceQuery: 'shampoing' })).toEqual([]);
  });

  it('combines query, serviceQuery and city', async () => {
    expect(await slugsFor({ query: 'tea', serviceQuery: 'brushing' })).toEqual(slugs('tea'));
    expect(await slugsFor({ query: 'creme', serviceQuery: 'brushing' })).toEqual([]);
    expect(await slugsFor({ city: otherCity, query: 'cafe' })).toEqual(slugs('away'));
    expect(await slugsFor({ city: null, query: `cafe away ${marker}` })).toEqual(slugs('away'));
  });

  it('never returns an archived business, by its name or by its services', async () => {
    expect(await slugsFor({ city: null, query: `archived ${marker}` })).toEqual([]);
    expect(await slugsFor({ city: null, serviceQuery: `archivee ${marker}` })).toEqual([]);
  });

  it('treats a blank query as no filter', async () => {
    expect(await slugsFor({ query: '  ', serviceQuery: '' })).toEqual(slugs('creme', 'upper', 'decomposed', 'tea', 'percent', 'zurich'));
  });

  it('pages through the matches by slug with no overlap and no gap', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res: GraphQLResponse = await api.gql(SEARCH, { city, query: 'cafe', first: 1, after });
      expect(res.errors).toBeUndefined();
      const { nodes, pageInfo } = res.data.businesses;
      seen.push(...nodes.map((n: { slug: string }) => n.slug));
      if (!pageInfo.hasNextPage) break;
      after = pageInfo.endCursor;
    }
    expect(seen).toEqual(slugs('creme', 'upper', 'decomposed', 'percent'));
  });

  it('refuses a query longer than 100 characters with BAD_USER_INPUT', async () => {
    const res = await api.gql(SEARCH, { query: 'x'.repeat(101) });
    expect(res.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0].message).toBe('Expected `query` to be at most 100 characters long, got 101.');
  });
});

// Thousands of rows through GIN indexes: slow on PGlite on a loaded machine.
describe('Query.businesses: the search reads through the trigram indexes', { timeout: 120_000 }, () => {
  let database: DatabaseHandle;
  let sent: Array<{ sql: string; parameters: readonly unknown[] }> = [];

  beforeAll(async () => {
    database = await connectDatabase({ databaseUrl: process.env.DATABASE_URL, poolMax: 2, onStatement: (event) => void sent.push(event.query) });
    if (!process.env.DATABASE_URL) {
      const { migrateToLatest } = await import('../../src/db/migrate.js');
      await migrateToLatest(database.db);
    }
    const b = await createBusiness(database.db, { name: `Plan Café ${uniqueSuffix()}` });
    await createService(database.db, b, { name: `Plan Coupe ${uniqueSuffix()}` });
  });
  afterAll(() => database.close());

  /**
   * The plan of findBusinessPage's statement with these arguments, among 3000 more businesses with a
   * service each, both translated (inserted and analyzed in a transaction that is rolled back), so that the planner
   * weighs the indexes against real scans.
   */
  async function planOf(args: Partial<BusinessPageArgs>): Promise<string> {
    sent = [];
    await findBusinessPage(database.db, { city: null, query: null, serviceQuery: null, afterSlug: null, limit: 21, ...args });
    const statement = sent.find((s) => s.sql.includes('findBusinessPage'))!;
    const rollback = new Error('rollback');
    let plan = '';
    await database.db
      .transaction()
      .execute(async (trx) => {
        const prefix = `filler-${uniqueSuffix()}`;
        await sql`
          INSERT INTO businesses (slug, name, kind, city, time_zone, currency)
          SELECT ${prefix} || '-' || i, 'Filler ' || md5(i::text), 'salon', 'Filler City', 'UTC', 'EUR' FROM generate_series(1, 3000) i`.execute(trx);
        await sql`
          INSERT INTO services (business_id, name, duration_minutes, price_cents)
          SELECT id, 'Service ' || md5(slug), 30, 1000 FROM businesses WHERE slug LIKE ${`${prefix}-%`}`.execute(trx);
        await sql`
          INSERT INTO business_translations (business_id, locale, name)
          SELECT id, 'ja', '店 ' || md5(slug) FROM businesses WHERE slug LIKE ${`${prefix}-%`}`.execute(trx);
        await sql`
          INSERT INTO service_translations (business_id, service_id, locale, name)
          SELECT s.business_id, s.id, 'ja', 'サービス ' || md5(s.name) FROM services s JOIN businesses b ON b.id = s.business_id WHERE b.slug LIKE ${`${prefix}-%`}`.execute(trx);
        for (const table of ['businesses', 'services', 'business_translations', 'service_translations']) await sql`ANALYZE ${sql.table(table)}`.execute(trx);
        const result = await trx.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`EXPLAIN ${statement.sql}`, [...statement.parameters]));
        plan = result.rows.map((r) => r['QUERY PLAN']).join('\n');
        throw rollback;
      })
      .catch((error) => {
        if (error !== rollback) throw error;
      });
    return plan;
  }

  it('finds businesses by name through the trigram indexes of their names and of their translations', async () => {
    const plan = await planOf({ query: 'plan cafe' });
    expect(plan).toContain('businesses_search_name_trgm_idx');
    expect(plan).toContain('business_translations_search_name_trgm_idx');
  });

  it('finds businesses by service name through the trigram indexes of service names and of their translations', async () => {
    const plan = await planOf({ serviceQuery: 'plan coupe' });
    expect(plan).toContain('services_search_name_trgm_idx');
    expect(plan).toContain('service_translations_search_name_trgm_idx');
  });
});
